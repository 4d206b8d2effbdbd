// validate.mjs - validate DTE documents against the Ministerio de Hacienda's
// official JSON Schemas (draft-07) with ajv 8, for the schema corpus suite.
//
//   node tests/dte/validate.mjs DIR [SCHEMA_DIR]
//
// DIR holds *.json documents (tests/tools/dte_corpus writes them). Each one is
// matched to its schema by identificacion.tipoDte and identificacion.version,
// read from the schemas' own "const" values (SCHEMA_DIR, by default
// tests/fixtures/dte-sv/, the byte-for-byte copies described in SOURCES.md).
// Prints one line per failure and ends with "N passed, N failed" (documents);
// exits 1 when any document fails.
//
// ajv options, and why:
// - multipleOfPrecision: ajv checks multipleOf by dividing binary floats
//   (1.15 / 0.01 = 114.99999999999999), which rejects exact decimals; with
//   precision p it accepts |round(x/m) - x/m| <= 10^-p. The quotient carries a
//   relative error of a few 1e-16, i.e. an absolute error that grows with the
//   value: about 0.03 for 999999.99 at 8 decimals (quotient 1e14), up to 0.5
//   for quotients near 2^53, where no precision setting helps. So every
//   multipleOf failure ajv reports is re-checked EXACTLY on the number's own
//   text (a lossless parse of the document keeps it): it stands only when the
//   decimal really has more decimals than the schema's multipleOf allows. The
//   count of float verdicts overturned that way is printed.
// - strict: the schemas are MH's, byte for byte. Their one unknown keyword
//   (the misspelt "exclusiveMonimun" of fe-nc-v3 and fe-nd-v3) is declared as
//   an annotation (ignored, as MH's validator must); strictTypes is off (it
//   lints keywords without a sibling "type", which draft-07 allows); every
//   other strict rule stays on.
// - formats: "date" and "email" from ajv-formats (full mode).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const MULTIPLE_OF_PRECISION = 6;

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = process.argv[2];
const schemaDir = process.argv[3] ?? join(here, "..", "fixtures", "dte-sv");
if (!dir) {
	console.error("usage: node tests/dte/validate.mjs DIR [SCHEMA_DIR]");
	process.exit(2);
}

const ajv = new Ajv({
	allErrors: true,
	strict: true,
	strictTypes: false,
	multipleOfPrecision: MULTIPLE_OF_PRECISION,
});
addFormats(ajv, ["date", "email"]);
ajv.addKeyword({ keyword: "exclusiveMonimun", schemaType: "number" });

// The text of every number of a JSON document, by JSON pointer. A small
// recursive-descent reader; JSON.parse has already checked the syntax.
function numberTexts(text) {
	const out = new Map();
	let i = 0;
	const ws = () => {
		while (i < text.length && " \t\r\n".includes(text[i])) i++;
	};
	const str = () => {
		const start = i;
		i++;
		while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
		i++;
		return JSON.parse(text.slice(start, i));
	};
	const esc = (k) => k.replaceAll("~", "~0").replaceAll("/", "~1");
	const value = (ptr) => {
		ws();
		const c = text[i];
		if (c === "{") {
			i++;
			ws();
			if (text[i] === "}") return void i++;
			for (;;) {
				ws();
				const key = str();
				ws();
				i++; // ':'
				value(`${ptr}/${esc(key)}`);
				ws();
				if (text[i++] === "}") return;
			}
		}
		if (c === "[") {
			i++;
			ws();
			if (text[i] === "]") return void i++;
			for (let n = 0; ; n++) {
				value(`${ptr}/${n}`);
				ws();
				if (text[i++] === "]") return;
			}
		}
		if (c === '"') return void str();
		const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?|^(true|false|null)/.exec(text.slice(i, i + 400));
		if (m[3] === undefined) out.set(ptr, m[0]);
		i += m[0].length;
	};
	value("");
	return out;
}

// Decimals of a number's text after removing its exponent, trailing zeros ignored.
function decimalsOf(numText) {
	const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(numText);
	const frac = (m[2] ?? "").replace(/0+$/, "");
	return Math.max(0, frac.length - Number(m[3] ?? 0));
}

// Decimals allowed by a multipleOf that is a power of ten (all of MH's are), or null.
function decimalsAllowed(m) {
	for (let k = 0; k <= 20; k++) if (Math.abs(m * 10 ** k - 1) < 1e-9) return k;
	return null;
}

const validators = new Map();
for (const file of readdirSync(schemaDir).filter((f) => /^fe-.*\.json$/.test(f)).sort()) {
	const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8"));
	const id = schema.properties?.identificacion?.properties;
	validators.set(`${id?.tipoDte?.const}/${id?.version?.const}`, { file, validate: ajv.compile(schema) });
}
if (validators.size === 0) {
	console.error(`no fe-*.json schemas in ${schemaDir}`);
	process.exit(2);
}

let passed = 0;
let failed = 0;
let overturned = 0;
const docs = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
for (const name of docs) {
	const text = readFileSync(join(dir, name), "utf8");
	let doc;
	try {
		doc = JSON.parse(text);
	} catch (err) {
		console.log(`FAIL ${name}: not JSON: ${err.message}`);
		failed++;
		continue;
	}
	const key = `${doc?.identificacion?.tipoDte}/${doc?.identificacion?.version}`;
	const v = validators.get(key);
	if (!v) {
		console.log(`FAIL ${name}: no schema for tipoDte/version ${key}`);
		failed++;
		continue;
	}
	let errors = v.validate(doc) ? [] : v.validate.errors;
	if (errors.some((e) => e.keyword === "multipleOf")) {
		const texts = numberTexts(text);
		errors = errors.filter((e) => {
			if (e.keyword !== "multipleOf") return true;
			const t = texts.get(e.instancePath);
			const k = decimalsAllowed(e.params.multipleOf);
			if (t === undefined || k === null || decimalsOf(t) > k) return true;
			overturned++;
			return false;
		});
		// an "if" whose "then" failed only through such a false multipleOf is gone too
		if (!errors.some((e) => e.keyword !== "if")) errors = [];
	}
	if (errors.length === 0) {
		passed++;
		continue;
	}
	failed++;
	for (const e of errors) {
		console.log(`FAIL ${name} (${v.file}): ${e.instancePath || "/"} ${e.message} [${e.schemaPath}]`);
	}
}
if (docs.length === 0) {
	console.log(`FAIL ${dir}: no documents`);
	failed++;
}
if (overturned > 0) {
	console.log(`(${overturned} float multipleOf verdicts re-checked exactly on the number text and overturned)`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
