#!/usr/bin/env node
// stripe-double.mjs - a local test double of Stripe's HTTP API, for the
// clinicledger tests. Node's built-in modules only (no npm dependencies).
//
//   node tests/doubles/stripe-double.mjs [port]     (port 0 or absent: any free port)
//
// Listens on 127.0.0.1 and prints the chosen port on the first line of
// stdout. Speaks the parts of https://api.stripe.com the server uses, as
// Stripe does: Bearer secret keys (sk_test_...; with STRIPE_DOUBLE_SECRET_KEY
// set, exactly that key), application/x-www-form-urlencoded bodies with
// bracket notation (metadata[order_id]=..., payment_method_types[]=...,
// expand[]=...), unknown and missing parameters refused with 400
// invalid_request_error naming the param, Stripe's error objects
// {"error":{"type","code","message","param"}}, a Request-Id header on every
// answer, and Idempotency-Key semantics: the same key with the same
// parameters replays the first answer (header Idempotent-Replayed: true),
// with other parameters it is a 400 idempotency_error. Objects live in
// memory: pi_... (PaymentIntents), ch_... (charges), re_... (refunds),
// pst_... (Terminal connection token secrets), evt_... (events).
//
// API:
//   POST /v1/payment_intents                 amount, currency, capture_method, payment_method_types[],
//                                             metadata[...], description, payment_method, confirm, expand[]
//   GET  /v1/payment_intents/:id             expand[]=latest_charge
//   POST /v1/payment_intents/:id/confirm     payment_method (pm_card_visa | pm_card_mastercard |
//                                             pm_card_amex | pm_card_chargeDeclined | pm_card_insufficientFunds
//                                             | any other pm_...: visa 4242), expand[]
//   POST /v1/payment_intents/:id/cancel
//   GET  /v1/charges/:id
//   POST /v1/refunds                         payment_intent | charge, amount, reason, metadata[...]
//   GET  /v1/refunds                         charge | payment_intent, limit (newest first)
//   GET  /v1/refunds/:id
//   POST /v1/terminal/connection_tokens      location
//   GET  /v1/events/:id
//
// Test control (no authentication; JSON or form bodies):
//   POST /__test/payment_intents/:id/succeed {brand, last4}   what a Terminal reader or Stripe.js
//        confirmation does: PI -> succeeded, a charge with receipt_url, events
//        payment_intent.succeeded and charge.succeeded
//   POST /__test/payment_intents/:id/fail {code, message}     PI -> requires_payment_method with
//        last_payment_error, event payment_intent.payment_failed
//   POST /__test/faults {count, mode: "500"|"503"|"429"|"timeout"|"reset", path}
//        the next `count` API requests (whose path starts with `path`, default any)
//        fail that way before being processed: "timeout" never answers, "reset"
//        drops the connection; "reset-after" processes the request (a refund is
//        made, the idempotency key remembered) and then drops the connection, as
//        when an answer is lost on the way back. Also from the environment:
//        STRIPE_DOUBLE_FAULTS="mode:count[:path]".
//   GET  /__test/requests[?path=/v1/refunds]  every API request seen: {method, path,
//        idempotencyKey, status, replayed, fault, params}
//   GET  /__test/events[?type=charge.refunded] events generated so far, oldest first, as Stripe
//        would deliver them (sign them with tests/doubles/stripe-sign.mjs)
//   GET  /__test/objects/:id                  any stored object
//   POST /__test/reset                        forget everything
import http from "node:http";
import crypto from "node:crypto";

const API_VERSION = process.env.STRIPE_DOUBLE_API_VERSION || "2026-10-28.endive";
const REQUIRED_KEY = process.env.STRIPE_DOUBLE_SECRET_KEY || "";
const TIMEOUT_HOLD_MS = 60000;

let objects = new Map();     // id -> object
let idempotency = new Map(); // key -> {fingerprint, status, body, requestId}
let requests = [];
let events = [];
let faults = [];             // {mode, count, path}

function parseFaultSpec(spec) {
	const [mode, count, path] = spec.split(":");
	return { mode, count: Number(count || 1), path: path || "" };
}
if (process.env.STRIPE_DOUBLE_FAULTS) {
	for (const s of process.env.STRIPE_DOUBLE_FAULTS.split(",")) faults.push(parseFaultSpec(s));
}

function rand(n) {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const bytes = crypto.randomBytes(n);
	let s = "";
	for (let i = 0; i < n; i++) s += chars[bytes[i] % chars.length];
	return s;
}
const newId = (prefix) => `${prefix}_3Double${rand(17)}`;
const now = () => Math.floor(Date.now() / 1000);

class StripeError extends Error {
	constructor(status, type, message, extra = {}) {
		super(message);
		this.status = status;
		this.body = { error: { type, message, ...extra } };
	}
}
const invalid = (message, param, code) =>
	new StripeError(400, "invalid_request_error", message, { ...(param ? { param } : {}), ...(code ? { code } : {}) });

// --- form bodies with bracket notation ---
function decode(s) {
	return decodeURIComponent(s.replace(/\+/g, " "));
}
function parseForm(text) {
	const out = {};
	if (!text) return out;
	for (const part of text.split("&")) {
		if (!part) continue;
		const eq = part.indexOf("=");
		let key, value;
		try {
			key = decode(eq < 0 ? part : part.slice(0, eq));
			value = decode(eq < 0 ? "" : part.slice(eq + 1));
		} catch {
			throw invalid("Invalid URL encoding in request body.");
		}
		const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
		if (!m) throw invalid(`Invalid parameter name: ${key}`, key);
		const path = [m[1], ...[...m[2].matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1])];
		let node = out;
		for (let i = 0; i < path.length; i++) {
			const k = path[i];
			const last = i === path.length - 1;
			if (k === "") {
				if (!Array.isArray(node)) throw invalid(`Invalid array parameter: ${key}`, m[1]);
				if (last) node.push(value);
				else {
					const child = {};
					node.push(child);
					node = child;
				}
				continue;
			}
			if (last) {
				node[k] = value;
			} else {
				const nextIsArray = path[i + 1] === "" || /^\d+$/.test(path[i + 1]);
				if (node[k] === undefined) node[k] = nextIsArray ? [] : {};
				node = node[k];
				if (typeof node !== "object") throw invalid(`Invalid parameter: ${key}`, m[1]);
			}
		}
	}
	return out;
}

function fingerprint(v) {
	if (Array.isArray(v)) return `[${v.map(fingerprint).join(",")}]`;
	if (v && typeof v === "object")
		return `{${Object.keys(v)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${fingerprint(v[k])}`)
			.join(",")}}`;
	return JSON.stringify(v);
}

// --- parameter checks ---
function allowOnly(params, allowed) {
	for (const k of Object.keys(params)) if (!allowed.includes(k)) throw invalid(`Received unknown parameter: ${k}`, k);
}
function requireParam(params, name) {
	if (params[name] === undefined || params[name] === "") throw invalid(`Missing required param: ${name}.`, name);
	return params[name];
}
function intParam(params, name) {
	const v = params[name];
	if (!/^\d+$/.test(String(v))) throw invalid(`Invalid integer: ${v}`, name);
	const n = Number(v);
	if (!Number.isSafeInteger(n)) throw invalid(`Invalid integer: ${v}`, name);
	return n;
}
function metadataParam(params) {
	const md = params.metadata;
	if (md === undefined || md === "") return {};
	if (typeof md !== "object" || Array.isArray(md)) throw invalid("Invalid object", "metadata");
	const keys = Object.keys(md);
	if (keys.length > 50) throw invalid("You can specify up to 50 keys.", "metadata");
	for (const k of keys) {
		if (k.length > 40) throw invalid(`Metadata keys can have up to 40 characters.`, `metadata[${k}]`);
		if (String(md[k]).length > 500) throw invalid(`Metadata values can have up to 500 characters.`, `metadata[${k}]`);
	}
	return { ...md };
}
function expandParam(params) {
	const ex = params.expand;
	if (ex === undefined) return [];
	if (!Array.isArray(ex)) throw invalid("Invalid array", "expand");
	for (const x of ex) if (!["latest_charge", "payment_intent", "charge"].includes(x)) throw invalid(`This property cannot be expanded (${x}).`, "expand");
	return ex;
}
const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
const MINIMUM = { usd: 50, eur: 50, gbp: 30, cad: 50, mxn: 1000, dop: 3000, mad: 500, jpy: 50 };

function getObject(id, type, param) {
	const o = objects.get(id);
	if (!o || o.object !== type) throw invalid(`No such ${type}: '${id}'`, param, "resource_missing");
	return o;
}
// 404 for missing objects, as Stripe answers them.
function notFound(err) {
	if (err instanceof StripeError && err.body.error.code === "resource_missing") err.status = 404;
	return err;
}

function emitEvent(type, obj, req) {
	const evt = {
		id: newId("evt"),
		object: "event",
		api_version: API_VERSION,
		created: now(),
		data: { object: JSON.parse(JSON.stringify(obj)) },
		livemode: false,
		pending_webhooks: 1,
		request: { id: req ? req.requestId : null, idempotency_key: req ? req.idempotencyKey || null : null },
		type,
	};
	if (type === "charge.refunded") evt.data.previous_attributes = { amount_refunded: obj.__previous_refunded || 0 };
	delete evt.data.object.__previous_refunded;
	objects.set(evt.id, evt);
	events.push(evt);
	return evt;
}

function view(o, expand) {
	const out = JSON.parse(JSON.stringify(o));
	if (out.object === "payment_intent" && expand.includes("latest_charge") && out.latest_charge)
		out.latest_charge = JSON.parse(JSON.stringify(objects.get(out.latest_charge)));
	if (out.object === "refund" && expand.includes("payment_intent") && out.payment_intent)
		out.payment_intent = JSON.parse(JSON.stringify(objects.get(out.payment_intent)));
	if (out.object === "refund" && expand.includes("charge") && out.charge)
		out.charge = JSON.parse(JSON.stringify(objects.get(out.charge)));
	return out;
}

const CARDS = {
	pm_card_visa: { brand: "visa", last4: "4242" },
	pm_card_mastercard: { brand: "mastercard", last4: "4444" },
	pm_card_amex: { brand: "amex", last4: "8431" },
	pm_card_chargeDeclined: { brand: "visa", last4: "0002", decline: "generic_decline", message: "Your card was declined." },
	pm_card_insufficientFunds: { brand: "visa", last4: "9995", decline: "insufficient_funds", message: "Your card has insufficient funds." },
};

function succeedIntent(pi, card, req) {
	const type = pi.payment_method_types.includes("card_present") && !card.online ? "card_present" : "card";
	const ch = {
		id: newId("ch"),
		object: "charge",
		amount: pi.amount,
		amount_captured: pi.amount,
		amount_refunded: 0,
		balance_transaction: newId("txn"),
		captured: true,
		created: now(),
		currency: pi.currency,
		description: pi.description,
		failure_code: null,
		failure_message: null,
		livemode: false,
		metadata: { ...pi.metadata },
		paid: true,
		payment_intent: pi.id,
		payment_method: pi.payment_method || newId("pm"),
		payment_method_details: {
			type,
			[type]: {
				brand: card.brand || "visa",
				last4: card.last4 || "4242",
				exp_month: 12,
				exp_year: new Date().getFullYear() + 3,
				funding: "credit",
				country: "US",
				...(type === "card_present" ? { read_method: "contactless_emv" } : {}),
			},
		},
		receipt_url: `https://pay.stripe.com/receipts/payment/${rand(40)}`,
		refunded: false,
		status: "succeeded",
	};
	objects.set(ch.id, ch);
	pi.status = "succeeded";
	pi.amount_received = pi.amount;
	pi.latest_charge = ch.id;
	pi.last_payment_error = null;
	pi.payment_method = ch.payment_method;
	emitEvent("charge.succeeded", ch, req);
	emitEvent("payment_intent.succeeded", pi, req);
	return ch;
}

function failIntent(pi, code, message, req) {
	pi.status = "requires_payment_method";
	pi.last_payment_error = { type: "card_error", code: "card_declined", decline_code: code, message };
	pi.payment_method = null;
	emitEvent("payment_intent.payment_failed", pi, req);
}

// --- API operations: (params, pathParams, req) -> [status, body] ---
const routes = [
	["POST", /^\/v1\/payment_intents$/, (p, m, req) => {
		allowOnly(p, ["amount", "currency", "capture_method", "payment_method_types", "metadata", "description", "payment_method", "confirm", "expand", "receipt_email", "statement_descriptor", "statement_descriptor_suffix"]);
		requireParam(p, "amount");
		const amount = intParam(p, "amount");
		const currency = String(requireParam(p, "currency"));
		if (!/^[a-zA-Z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, "currency");
		const cur = currency.toLowerCase();
		if (amount < 1) throw invalid("This value must be greater than or equal to 1.", "amount");
		if (MINIMUM[cur] && amount < MINIMUM[cur]) throw invalid(`Amount must be at least ${MINIMUM[cur]} ${cur} minor units`, "amount", "amount_too_small");
		const capture = p.capture_method || "automatic";
		if (!["automatic", "automatic_async", "manual"].includes(capture)) throw invalid(`Invalid capture_method: ${capture}`, "capture_method");
		let types = p.payment_method_types ?? ["card"];
		if (!Array.isArray(types) || types.length === 0) throw invalid("Invalid array", "payment_method_types");
		for (const t of types) if (!["card", "card_present", "interac_present", "link"].includes(t)) throw invalid(`The payment method type provided: ${t} is invalid.`, "payment_method_types");
		const id = newId("pi");
		const pi = {
			id,
			object: "payment_intent",
			amount,
			amount_capturable: 0,
			amount_received: 0,
			capture_method: capture,
			client_secret: `${id}_secret_${rand(25)}`,
			confirmation_method: "automatic",
			created: now(),
			currency: cur,
			description: p.description ?? null,
			last_payment_error: null,
			latest_charge: null,
			livemode: false,
			metadata: metadataParam(p),
			payment_method: p.payment_method ?? null,
			payment_method_types: types,
			status: p.payment_method ? "requires_confirmation" : "requires_payment_method",
		};
		objects.set(id, pi);
		emitEvent("payment_intent.created", pi, req);
		if (p.confirm === "true") return confirm(pi, p.payment_method, expandParam(p), req);
		return [200, view(pi, expandParam(p))];
	}],
	["GET", /^\/v1\/payment_intents\/([^/]+)$/, (p, m) => {
		allowOnly(p, ["expand", "client_secret"]);
		try {
			return [200, view(getObject(m[1], "payment_intent", "intent"), expandParam(p))];
		} catch (err) {
			throw notFound(err);
		}
	}],
	["POST", /^\/v1\/payment_intents\/([^/]+)\/confirm$/, (p, m, req) => {
		allowOnly(p, ["payment_method", "expand", "return_url", "receipt_email"]);
		let pi;
		try {
			pi = getObject(m[1], "payment_intent", "intent");
		} catch (err) {
			throw notFound(err);
		}
		return confirm(pi, p.payment_method, expandParam(p), req);
	}],
	["POST", /^\/v1\/payment_intents\/([^/]+)\/cancel$/, (p, m, req) => {
		allowOnly(p, ["cancellation_reason", "expand"]);
		let pi;
		try {
			pi = getObject(m[1], "payment_intent", "intent");
		} catch (err) {
			throw notFound(err);
		}
		if (["succeeded", "canceled"].includes(pi.status))
			throw invalid(`You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`, null, "payment_intent_unexpected_state");
		pi.status = "canceled";
		pi.canceled_at = now();
		pi.cancellation_reason = p.cancellation_reason ?? null;
		emitEvent("payment_intent.canceled", pi, req);
		return [200, view(pi, expandParam(p))];
	}],
	["GET", /^\/v1\/charges\/([^/]+)$/, (p, m) => {
		allowOnly(p, ["expand"]);
		try {
			return [200, view(getObject(m[1], "charge", "id"), expandParam(p))];
		} catch (err) {
			throw notFound(err);
		}
	}],
	["POST", /^\/v1\/refunds$/, (p, m, req) => {
		allowOnly(p, ["payment_intent", "charge", "amount", "reason", "metadata", "expand"]);
		if (!p.payment_intent && !p.charge) throw invalid("One of the following params should be provided for this request: payment_intent or charge.", "payment_intent");
		let ch;
		if (p.payment_intent) {
			const pi = getObject(p.payment_intent, "payment_intent", "payment_intent");
			if (pi.status !== "succeeded" || !pi.latest_charge)
				throw invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, "payment_intent", "charge_not_refundable");
			ch = objects.get(pi.latest_charge);
		} else {
			ch = getObject(p.charge, "charge", "charge");
		}
		const remaining = ch.amount - ch.amount_refunded;
		if (remaining <= 0) throw invalid(`Charge ${ch.id} has already been refunded.`, "charge", "charge_already_refunded");
		const amount = p.amount !== undefined ? intParam(p, "amount") : remaining;
		if (amount < 1) throw invalid("This value must be greater than or equal to 1.", "amount");
		if (amount > remaining)
			throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, "amount", "amount_too_large");
		if (p.reason && !["duplicate", "fraudulent", "requested_by_customer"].includes(p.reason)) throw invalid(`Invalid reason: ${p.reason}`, "reason");
		const re = {
			id: newId("re"),
			object: "refund",
			amount,
			balance_transaction: newId("txn"),
			charge: ch.id,
			created: now(),
			currency: ch.currency,
			metadata: metadataParam(p),
			payment_intent: ch.payment_intent,
			reason: p.reason ?? null,
			status: "succeeded",
		};
		objects.set(re.id, re);
		ch.__previous_refunded = ch.amount_refunded;
		ch.amount_refunded += amount;
		ch.refunded = ch.amount_refunded === ch.amount;
		emitEvent("charge.refunded", ch, req);
		delete ch.__previous_refunded;
		emitEvent("refund.created", re, req);
		return [200, view(re, expandParam(p))];
	}],
	["GET", /^\/v1\/refunds$/, (p) => {
		allowOnly(p, ["charge", "payment_intent", "limit", "starting_after", "ending_before", "expand"]);
		const limit = p.limit !== undefined ? intParam(p, "limit") : 10;
		if (limit < 1 || limit > 100) throw invalid("This value must be less than or equal to 100.", "limit");
		const all = [...objects.values()]
			.filter((o) => o.object === "refund" && (!p.charge || o.charge === p.charge) && (!p.payment_intent || o.payment_intent === p.payment_intent))
			.reverse();
		return [200, { object: "list", data: all.slice(0, limit).map((o) => view(o, [])), has_more: all.length > limit, url: "/v1/refunds" }];
	}],
	["GET", /^\/v1\/refunds\/([^/]+)$/, (p, m) => {
		allowOnly(p, ["expand"]);
		try {
			return [200, view(getObject(m[1], "refund", "refund"), expandParam(p))];
		} catch (err) {
			throw notFound(err);
		}
	}],
	["POST", /^\/v1\/terminal\/connection_tokens$/, (p) => {
		allowOnly(p, ["location", "expand"]);
		if (p.location !== undefined && !/^tml_/.test(p.location)) throw invalid(`No such location: '${p.location}'`, "location", "resource_missing");
		const tok = { object: "terminal.connection_token", secret: `pst_test_${rand(40)}` };
		if (p.location) tok.location = p.location;
		objects.set(tok.secret, tok);
		return [200, tok];
	}],
	["GET", /^\/v1\/events\/([^/]+)$/, (p, m) => {
		allowOnly(p, ["expand"]);
		try {
			return [200, getObject(m[1], "event", "id")];
		} catch (err) {
			throw notFound(err);
		}
	}],
];

function confirm(pi, pm, expand, req) {
	if (pi.status === "succeeded" || pi.status === "canceled" || pi.status === "processing")
		throw invalid(`This PaymentIntent's status is ${pi.status}, but it must be one of requires_payment_method, requires_confirmation, or requires_action to be confirmed.`, null, "payment_intent_unexpected_state");
	const method = pm || pi.payment_method;
	if (!method)
		throw invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm a payment intent, either provide a payment_method or attach one before confirming.", null, "payment_intent_unexpected_state");
	if (!/^pm_/.test(method)) throw invalid(`No such PaymentMethod: '${method}'`, "payment_method", "resource_missing");
	pi.payment_method = method;
	const card = CARDS[method] || { brand: "visa", last4: "4242" };
	if (card.decline) {
		failIntent(pi, card.decline, card.message, req);
		throw new StripeError(402, "card_error", card.message, {
			code: "card_declined",
			decline_code: card.decline,
			payment_intent: view(pi, []),
		});
	}
	succeedIntent(pi, { ...card, online: true }, req);
	return [200, view(pi, expand)];
}

// --- plumbing ---
function send(res, status, body, headers = {}) {
	const text = JSON.stringify(body, null, 2);
	res.writeHead(status, {
		"Content-Type": "application/json",
		"Content-Length": Buffer.byteLength(text),
		"Stripe-Version": API_VERSION,
		...headers,
	});
	res.end(text);
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on("data", (c) => {
			size += c.length;
			if (size > 1 << 20) reject(new Error("too large"));
			else chunks.push(c);
		});
		req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
		req.on("error", reject);
	});
}

function takeFault(path) {
	for (const f of faults) {
		if (f.count > 0 && path.startsWith(f.path)) {
			f.count--;
			faults = faults.filter((x) => x.count > 0);
			return f.mode;
		}
	}
	return null;
}

function controlBody(text, ctype) {
	if (!text) return {};
	if ((ctype || "").includes("json")) return JSON.parse(text);
	return parseForm(text);
}

async function control(req, res, url, text) {
	const p = controlBody(text, req.headers["content-type"]);
	let m;
	if (req.method === "POST" && url.pathname === "/__test/reset") {
		objects = new Map();
		idempotency = new Map();
		requests = [];
		events = [];
		faults = [];
		return send(res, 200, { ok: true });
	}
	if (req.method === "POST" && url.pathname === "/__test/faults") {
		const f = { mode: String(p.mode || "500"), count: Number(p.count || 1), path: String(p.path || "") };
		if (!["500", "502", "503", "429", "timeout", "reset", "reset-after"].includes(f.mode)) return send(res, 400, { error: "bad mode" });
		faults.push(f);
		return send(res, 200, { faults });
	}
	if (req.method === "DELETE" && url.pathname === "/__test/faults") {
		faults = [];
		return send(res, 200, { faults });
	}
	if (req.method === "GET" && url.pathname === "/__test/requests") {
		const path = url.searchParams.get("path");
		return send(res, 200, { data: requests.filter((r) => !path || r.path.startsWith(path)) });
	}
	if (req.method === "GET" && url.pathname === "/__test/events") {
		const type = url.searchParams.get("type");
		return send(res, 200, { data: events.filter((e) => !type || e.type === type) });
	}
	if (req.method === "GET" && (m = /^\/__test\/objects\/([^/]+)$/.exec(url.pathname))) {
		const o = objects.get(m[1]);
		return o ? send(res, 200, o) : send(res, 404, { error: "not found" });
	}
	if (req.method === "POST" && (m = /^\/__test\/payment_intents\/([^/]+)\/(succeed|fail)$/.exec(url.pathname))) {
		const pi = objects.get(m[1]);
		if (!pi || pi.object !== "payment_intent") return send(res, 404, { error: "no such payment_intent" });
		if (pi.status === "succeeded" || pi.status === "canceled") return send(res, 409, { error: `payment_intent is ${pi.status}` });
		if (m[2] === "succeed") {
			const ch = succeedIntent(pi, { brand: p.brand, last4: p.last4, online: p.online === true || p.online === "true" }, null);
			return send(res, 200, { payment_intent: pi, charge: ch });
		}
		failIntent(pi, String(p.code || "generic_decline"), String(p.message || "Your card was declined."), null);
		return send(res, 200, { payment_intent: pi });
	}
	return send(res, 404, { error: "unknown test control endpoint" });
}

async function handle(req, res) {
	const url = new URL(req.url, "http://127.0.0.1");
	const requestId = `req_${rand(14)}`;
	let text;
	try {
		text = await readBody(req);
	} catch {
		return send(res, 413, { error: { type: "invalid_request_error", message: "Request too large." } }, { "Request-Id": requestId });
	}
	if (url.pathname.startsWith("/__test/")) {
		try {
			return await control(req, res, url, text);
		} catch (err) {
			return send(res, 400, { error: String(err.message || err) });
		}
	}

	const idemKey = req.headers["idempotency-key"];
	const entry = { method: req.method, path: url.pathname, idempotencyKey: idemKey || null, status: 0, replayed: false, fault: null, params: null };
	requests.push(entry);
	let fault = takeFault(url.pathname);
	let dropAfter = false;
	if (fault === "reset-after") {
		// process the request (and remember its idempotency key), then lose the answer
		entry.fault = fault;
		dropAfter = true;
		fault = null;
	}
	if (fault) {
		entry.fault = fault;
		if (fault === "timeout") {
			const t = setTimeout(() => res.destroy(), TIMEOUT_HOLD_MS);
			res.on("close", () => clearTimeout(t));
			return;
		}
		if (fault === "reset") return req.socket.destroy();
		entry.status = Number(fault);
		const hdr = { "Request-Id": requestId };
		if (fault === "429") hdr["Retry-After"] = "0";
		return send(res, Number(fault), { error: { type: fault === "429" ? "invalid_request_error" : "api_error", code: fault === "429" ? "rate_limit" : undefined, message: fault === "429" ? "Too many requests hit the API too quickly." : "An unknown error occurred" } }, hdr);
	}

	const reply = (status, body, extra = {}) => {
		entry.status = status;
		if (dropAfter) return req.socket.destroy();
		send(res, status, body, { "Request-Id": requestId, ...extra });
	};

	const auth = req.headers.authorization || "";
	let m = /^Bearer (\S+)$/.exec(auth);
	const basic = /^Basic (\S+)$/.exec(auth); // Stripe also takes the key as a Basic user name
	if (!m && basic) m = [null, Buffer.from(basic[1], "base64").toString("utf8").replace(/:.*$/, "")];
	if (!m || !m[1])
		return reply(401, { error: { type: "invalid_request_error", message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')." } });
	const key = m[1];
	if (!/^sk_test_[A-Za-z0-9_]+$/.test(key) || (REQUIRED_KEY && key !== REQUIRED_KEY))
		return reply(401, { error: { type: "invalid_request_error", code: "api_key_invalid", message: `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` } });

	const route = routes.find(([method, re]) => method === req.method && re.test(url.pathname));
	if (!route) {
		const known = routes.some(([, re]) => re.test(url.pathname));
		return reply(404, { error: { type: "invalid_request_error", message: known ? `Unrecognized request URL (${req.method}: ${url.pathname}).` : `Unrecognized request URL (${req.method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` } });
	}

	let params;
	try {
		if (req.method === "GET" || req.method === "DELETE") params = parseForm(url.search.slice(1));
		else {
			const ct = req.headers["content-type"] || "";
			if (text && !ct.startsWith("application/x-www-form-urlencoded"))
				throw invalid(`Invalid request: unsupported Content-Type ${ct}. If error persists and you need assistance, please contact support@stripe.com.`);
			params = parseForm(text);
		}
	} catch (err) {
		if (err instanceof StripeError) return reply(err.status, err.body);
		throw err;
	}
	entry.params = params;

	const fp = `${req.method} ${url.pathname} ${fingerprint(params)}`;
	const storeKey = idemKey ? `${key}\u0000${idemKey}` : null;
	if (req.method === "POST" && storeKey) {
		if (idemKey.length > 255) return reply(400, { error: { type: "invalid_request_error", message: "Idempotency-Key must be at most 255 characters long.", param: "Idempotency-Key" } });
		const prev = idempotency.get(storeKey);
		if (prev) {
			if (prev.fingerprint !== fp)
				return reply(400, { error: { type: "idempotency_error", message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.` } });
			entry.replayed = true;
			return reply(prev.status, prev.body, { "Idempotent-Replayed": "true", "Original-Request": prev.requestId, "Idempotency-Key": idemKey });
		}
	}

	const r = { requestId, idempotencyKey: idemKey };
	let status, body;
	try {
		[status, body] = route[2](params, route[1].exec(url.pathname), r);
	} catch (err) {
		if (!(err instanceof StripeError)) {
			console.error(err);
			status = 500;
			body = { error: { type: "api_error", message: "An unknown error occurred" } };
		} else {
			status = err.status;
			body = err.body;
		}
	}
	const extra = {};
	if (req.method === "POST" && storeKey) {
		idempotency.set(storeKey, { fingerprint: fp, status, body, requestId });
		extra["Idempotency-Key"] = idemKey;
	}
	reply(status, body, extra);
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((err) => {
		console.error(err);
		if (!res.headersSent) send(res, 500, { error: { type: "api_error", message: "An unknown error occurred" } });
	});
});
server.keepAliveTimeout = 5000;
const port = Number(process.argv[2] || 0);
server.listen(port, "127.0.0.1", () => {
	process.stdout.write(`${server.address().port}\n`);
});
const stop = () => {
	server.closeAllConnections();
	server.close();
	process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Exit with the test program that started us (stdin closes when it dies).
if (process.env.STRIPE_DOUBLE_EXIT_ON_STDIN_EOF === "1") {
	process.stdin.on("end", () => process.exit(0));
	process.stdin.resume();
}
