/*
 * dte_corpus.c - write a corpus of DTE documents for the schema suite
 * (tests/suites/dte_schema_corpus.sh validates each file against MH's
 * official schema with ajv).
 *
 *   dte_corpus OUTDIR [COUNT [SEED]]     (COUNT 1000, SEED 1 by default)
 *
 * Every type (01, 03, 05, 06, 14) in turn, from a seeded pseudo-random
 * stream: taxable, exempt and not-subject lines; line and global discounts
 * (up to 100 %); quantities and prices from awkward lists (0.00000001, 1/3,
 * 999999.99, 12.345678, ...) and random cents; anonymous and identified
 * receptors of every document type; normal and contingency transmission
 * (all five CAT-005 kinds); contado, crédito and otro with pagos;
 * retentions; related documents, médico, venta a terceros, extension and
 * apéndice; texts with accents, quotes, backslashes and line breaks; one
 * Factura with the maximum 2,000 items. Each document is also re-checked
 * with dte_verify (strict) before it is written; a failure there, or a
 * refusal the generator does not expect, ends the program with status 1.
 * Files: OUTDIR/NNNNN-TT.json, the exact text dte_json_dump prints.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ids.h"
#include "mod/dte/dte_doc.h"

#define E8	   DTE_E8
#define MAX_ITEMS  DTE_MAX_ITEMS
#define TEXT_SLOTS 64

static uint64_t rng = 1;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static bool chance(int percent)
{
	return (int)rnd(100) < percent;
}

/* Per-document text storage (the input borrows strings). */
static char texts[TEXT_SLOTS][640];
static int ntexts;

static char *text_slot(void)
{
	if (ntexts >= TEXT_SLOTS) {
		fprintf(stderr, "dte_corpus: out of text slots\n");
		exit(1);
	}
	return texts[ntexts++];
}

static const char *pick(const char *const *list, size_t n)
{
	return list[rnd(n)];
}

#define PICK(list) pick(list, sizeof(list) / sizeof(list[0]))

/* ---- identity numbers with right check digits ---- */

static const char *random_dui(bool hyphen)
{
	char *s = text_slot(), d[10];
	int sum = 0;

	for (int i = 0; i < 8; i++) {
		d[i] = (char)('0' + (i == 0 ? rnd(7) : rnd(10)));
		sum += (d[i] - '0') * (9 - i);
	}
	d[8] = (char)('0' + (10 - sum % 10) % 10);
	d[9] = '\0';
	if (!dui_valid(d))
		return random_dui(hyphen);
	if (hyphen)
		snprintf(s, 640, "%.8s-%c", d, d[8]);
	else
		snprintf(s, 640, "%s", d);
	return s;
}

static const char *random_nit(void)
{
	char *s = text_slot();

	for (;;) {
		/* municipality 0614 etc., birth date DDMMYY, sequence, check */
		snprintf(s, 640, "%04d%02d%02d%02d%03d0", (int)(101 + rnd(1300)), (int)(1 + rnd(28)),
			 (int)(1 + rnd(12)), (int)rnd(100), (int)rnd(1000));
		for (char c = '0'; c <= '9'; c++) {
			s[13] = c;
			if (nit_valid(s))
				return s;
		}
	}
}

static const char *random_nrc(int min_len)
{
	char *s = text_slot();
	int len = min_len + (int)rnd((uint64_t)(9 - min_len));

	s[0] = (char)('1' + rnd(9));
	for (int i = 1; i < len; i++)
		s[i] = (char)('0' + rnd(10));
	s[len] = '\0';
	return s;
}

/* ---- addresses: departamento and a municipio the v1 schemas accept ---- */

static struct dte_address random_address(void)
{
	/* codes before the 2024 reform: the v1 schemas' per-departamento patterns */
	static const int old_max[15] = {0, 12, 13, 16, 33, 22, 19, 16, 22, 9, 13, 23, 20, 26, 18};
	static const char *const streets[] = {
	    "Colonia Escalón, 3a Calle Poniente #4521",
	    "Barrio El Centro, Avenida Independencia Sur, local 4",
	    "Residencial Los Pinos, pasaje \"B\", casa 12",
	    "Km 12 1/2 Carretera al Puerto de La Libertad",
	    "Calle Arce y 19 Avenida Norte, Edificio Médico, 2º nivel",
	    "Cantón El Ñajo, caserío Las Flores",
	};
	struct dte_address a;
	char *dep = text_slot(), *mun = text_slot();
	int d = 1 + (int)rnd(14);

	snprintf(dep, 640, "%02d", d);
	snprintf(mun, 640, "%02d", 1 + (int)rnd((uint64_t)old_max[d]));
	a.departamento = dep;
	a.municipio = mun;
	a.complemento = PICK(streets);
	return a;
}

/* ---- parties ---- */

static struct dte_address addr[4];
static struct dte_emisor emisor;
static struct dte_receptor receptor;

static void make_emisor(enum dte_type type)
{
	static const char *const names[] = {
	    "Clínica Médica San Rafael, S.A. de C.V.",
	    "Hospital \"La Esperanza\" S.A.",
	    "Centro de Diagnóstico Río Lempa",
	    "Odontología Pérez & Asociados \\ Sucursal Norte",
	};
	static const char *const acts[][2] = {
	    {"86201", "Clínicas médicas"},
	    {"86100", "Actividades de hospitales"},
	    {"86202", "Servicios de odontología"},
	    {"86901", "Servicios de análisis y estudios de diagnóstico"},
	};
	static const char *const estab[] = {"01", "02", "04", "07", "20"};
	int a = (int)rnd(4);

	memset(&emisor, 0, sizeof(emisor));
	addr[0] = random_address();
	emisor.nit = chance(20) ? random_dui(false) : random_nit();
	emisor.nrc = (type == DTE_FSE && chance(30)) ? NULL : random_nrc(2);
	emisor.nombre = PICK(names);
	emisor.cod_actividad = acts[a][0];
	emisor.desc_actividad = acts[a][1];
	emisor.nombre_comercial = chance(70) ? "Clínica San Rafael" : NULL;
	emisor.tipo_establecimiento = PICK(estab);
	emisor.direccion = addr[0];
	emisor.telefono = chance(50) ? "22223333" : "+503 2222-3333 ext. 104";
	emisor.correo = chance(50) ? "facturacion@clinicasanrafael.com.sv" : "dte.emisor+sv@hospital-esperanza.org";
	if (chance(60)) {
		emisor.cod_estable_mh = "M001";
		emisor.cod_estable = "0001";
		emisor.cod_punto_venta_mh = "P001";
		emisor.cod_punto_venta = chance(50) ? "CAJA-1" : "7";
	}
}

/* FE buyer: anonymous, or identified by one of the CAT-022 documents. */
static const struct dte_receptor *make_receptor_fe(bool identified)
{
	static const char *const names[] = {"María José Pérez", "Juan \"Chepe\" Martínez", "Ana Lucía Núñez",
					    "José O'Brien"};

	if (!identified && chance(50))
		return NULL;
	memset(&receptor, 0, sizeof(receptor));
	receptor.nombre = PICK(names);
	switch (rnd(5)) {
	case 0:
		receptor.tipo_documento = "13";
		receptor.num_documento = random_dui(chance(50));
		break;
	case 1:
		receptor.tipo_documento = "36";
		receptor.num_documento = random_nit();
		receptor.nrc = chance(50) ? random_nrc(2) : NULL;
		break;
	case 2:
		receptor.tipo_documento = "03";
		receptor.num_documento = "A12345678";
		break;
	case 3:
		receptor.tipo_documento = "02";
		receptor.num_documento = "CR-99812";
		break;
	default:
		receptor.tipo_documento = "37";
		receptor.num_documento = "EXP-2025-000777";
		break;
	}
	if (!identified && chance(20)) { /* a name only */
		receptor.tipo_documento = NULL;
		receptor.num_documento = NULL;
		receptor.nrc = NULL;
	}
	if (chance(60)) {
		addr[1] = random_address();
		receptor.direccion = &addr[1];
	}
	receptor.telefono = chance(50) ? "77778888" : NULL;
	receptor.correo = chance(60) ? "paciente@example.com" : NULL;
	if (chance(30)) {
		receptor.cod_actividad = "86203";
		receptor.desc_actividad = "Servicios médicos";
	}
	return &receptor;
}

static const struct dte_receptor *make_receptor_company(void)
{
	static const char *const names[] = {"UNIDAD DE TRANSACCIONES S.A. DE C.V.", "Aseguradora Vida Plena, S.A.",
					    "ISSS Consultorio Empresarial Ñ", "Ministerio de Salud \\ Región Central"};

	memset(&receptor, 0, sizeof(receptor));
	addr[1] = random_address();
	receptor.nit = chance(20) ? random_dui(false) : random_nit();
	receptor.nrc = random_nrc(1);
	receptor.nombre = PICK(names);
	receptor.cod_actividad = chance(50) ? "65110" : "35103";
	receptor.desc_actividad = "Planes de seguros de vida";
	receptor.nombre_comercial = chance(50) ? "Vida Plena" : NULL;
	receptor.direccion = &addr[1];
	receptor.telefono = chance(50) ? "22477300" : NULL;
	receptor.correo = "compras@vidaplena.com.sv";
	return &receptor;
}

static const struct dte_receptor *make_sujeto(void)
{
	memset(&receptor, 0, sizeof(receptor));
	addr[1] = random_address();
	switch (rnd(3)) {
	case 0:
		receptor.tipo_documento = "13";
		receptor.num_documento = random_dui(chance(50));
		break;
	case 1:
		receptor.tipo_documento = "36";
		receptor.num_documento = random_nit();
		break;
	default:
		receptor.tipo_documento = "03";
		receptor.num_documento = "P7781234";
		break;
	}
	receptor.nombre = chance(50) ? "Dr. José Antonio Ramírez" : "Lavandería \"Doña Tina\"";
	if (chance(50)) {
		receptor.cod_actividad = "86203";
		receptor.desc_actividad = "Servicios médicos";
	}
	receptor.direccion = &addr[1];
	receptor.telefono = chance(40) ? "70001234" : NULL;
	receptor.correo = chance(40) ? "proveedor@example.com" : NULL;
	return &receptor;
}

/* ---- items ---- */

static const int64_t qtys[] = {1 * E8,	  2 * E8,	3 * E8, 50000000, 33333333, 1,
			       1000 * E8, 1234567800LL, 7 * E8, 10 * E8,  25000000, 66666667};
static const int64_t prices[] = {0,
				 1,
				 1000000,
				 10000000,
				 115000000,
				 333333333,
				 10 * E8,
				 1130000000LL,
				 2550000000LL,
				 9999000000LL,
				 2000 * E8,
				 99999999000000LL,
				 123456789012LL,
				 99000000LL,
				 566500000LL,
				 4999999LL,
				 14999999999LL};

static struct dte_item items[MAX_ITEMS];
static struct dte_doc_rel rels[3];

static void make_item(struct dte_item *it, enum dte_type type, size_t nrel)
{
	static const char *const descs[] = {
	    "Consulta médica general",
	    "Hemograma completo",
	    "Radiografía de tórax PA y lateral",
	    "Curación de herida \"grado II\"",
	    "Insumos: jeringa 5 ml\nguantes de látex",
	    "Honorarios C:\\Especialistas\\Cardiología",
	    "Ultrasonido abdominal – control",
	    "Paracetamol 500 mg (blíster × 10)",
	};
	static const char *const codes[] = {"CONS-01", "LAB-HEM", "RX-TORAX", NULL, "INS-JER5", "HON-CARD"};
	static const int units[] = {59, 59, 59, 99, 58, 23, 26, 34, 39, 36};
	int64_t bruto_e8;

	memset(it, 0, sizeof(*it));
	it->tipo_item = 1 + (int)rnd(3);
	it->codigo = PICK(codes);
	it->descripcion = PICK(descs);
	it->uni_medida = chance(30) ? 0 : units[rnd(10)];
	it->cantidad_e8 = qtys[rnd(sizeof(qtys) / sizeof(qtys[0]))];
	if (chance(30))
		it->precio_uni_e8 = (int64_t)rnd(500000) * 1000000; /* random cents up to 5,000.00 */
	else
		it->precio_uni_e8 = prices[rnd(sizeof(prices) / sizeof(prices[0]))];
	/* keep cantidad × precioUni within the engine's 10^10 limit */
	while ((__int128)it->cantidad_e8 * it->precio_uni_e8 / E8 >= 1000000000LL * E8)
		it->precio_uni_e8 /= 10;
	it->treatment = chance(60) ? DTE_GRAVADA : (chance(50) ? DTE_EXENTA : DTE_NO_SUJETA);
	bruto_e8 = (int64_t)(((__int128)it->cantidad_e8 * it->precio_uni_e8 + E8 / 2) / E8);
	if (chance(25) && bruto_e8 > 0)
		it->monto_descu_e8 = chance(10) ? bruto_e8 : (int64_t)rnd((uint64_t)bruto_e8);
	if ((type == DTE_FE || type == DTE_CCF) && chance(10))
		it->psv_e8 = (int64_t)rnd(100) * E8;
	if ((type == DTE_FE || type == DTE_CCF) && chance(8))
		it->no_gravado_e8 = ((int64_t)rnd(2001) - 1000) * 1000000; /* ±10.00 */
	if (nrel > 0 && (type == DTE_NC || type == DTE_ND || chance(30)))
		it->numero_documento = rels[rnd(nrel)].numero_documento;
}

/* ---- one document ---- */

static char uuid_text[4][UUID_LEN + 1];

static void make_related(struct dte_input *in)
{
	static const char *const fe_types[] = {"04", "09"}, *const ccf_types[] = {"04", "08", "09"},
				 *const note_types[] = {"03", "07"};
	size_t n = 0;

	if (in->type == DTE_NC || in->type == DTE_ND)
		n = 1 + rnd(3);
	else if ((in->type == DTE_FE || in->type == DTE_CCF) && chance(12))
		n = 1 + rnd(2);
	for (size_t i = 0; i < n; i++) {
		struct dte_doc_rel *r = &rels[i];

		if (in->type == DTE_FE)
			r->tipo_documento = PICK(fe_types);
		else if (in->type == DTE_CCF)
			r->tipo_documento = PICK(ccf_types);
		else
			r->tipo_documento = PICK(note_types);
		if (chance(70)) {
			r->tipo_generacion = 2;
			uuid_v4_upper(uuid_text[i + 1]);
			r->numero_documento = uuid_text[i + 1];
		} else {
			char *s = text_slot();

			r->tipo_generacion = 1;
			snprintf(s, 640, "%s-%06d", in->type == DTE_FE ? "NR" : "CCF", (int)(i + 1 + rnd(900000)));
			r->numero_documento = s;
		}
		r->fecha_emision = chance(50) ? "2024-12-15" : in->fec_emi;
	}
	in->doc_rel = n ? rels : NULL;
	in->ndoc_rel = n;
}

static struct dte_medico medico;
static struct dte_otro_doc otros[2];
static struct dte_venta_tercero tercero;
static struct dte_extension extension;
static struct dte_apendice apendice[3];
static struct dte_pago pagos[2];

static void make_blocks(struct dte_input *in)
{
	static const char *const pago_codes[] = {"01", "02", "03", "04", "05", "08",
						 "09", "11", "12", "13", "14", "99"};
	int k;

	if ((in->type == DTE_FE || in->type == DTE_CCF) && chance(15)) {
		if (chance(60)) {
			medico.nombre = "Dra. Ana Lucía Flores";
			medico.nit = chance(50) ? random_dui(false) : NULL;
			medico.doc_identificacion = medico.nit ? NULL : "PAS-AB123456";
			medico.tipo_servicio = 1 + (int)rnd(6);
			otros[0] = (struct dte_otro_doc){3, NULL, NULL, &medico};
		} else {
			otros[0] = (struct dte_otro_doc){chance(50) ? 1 : 2, "Orden de servicio", "OS-2025-1042", NULL};
		}
		otros[1] =
		    (struct dte_otro_doc){4, "Guía de transporte", "Transporte de muestras al laboratorio", NULL};
		in->otros = otros;
		in->notros = chance(30) ? 2 : 1;
	}
	if (in->type != DTE_FSE && chance(5)) {
		tercero.nit = random_nit();
		tercero.nombre = "Laboratorio Clínico Central";
		in->venta_tercero = &tercero;
	}
	if (in->type != DTE_FSE && chance(15)) {
		memset(&extension, 0, sizeof(extension));
		extension.nomb_entrega = chance(50) ? "Recepción Central" : NULL;
		extension.docu_entrega = chance(50) ? random_dui(true) : NULL;
		extension.nomb_recibe = chance(50) ? "María José Pérez" : NULL;
		extension.docu_recibe = chance(50) ? random_dui(true) : NULL;
		extension.observaciones =
		    chance(50) ? "Paciente referido por el ISSS.\nEntregar resultados en 48 h." : NULL;
		extension.placa_vehiculo =
		    (in->type == DTE_FE || in->type == DTE_CCF) && chance(30) ? "P123-456" : NULL;
		in->extension = &extension;
	}
	if (chance(15)) {
		apendice[0] = (struct dte_apendice){"orden", "Número de orden", "INV-20251014-000001"};
		apendice[1] = (struct dte_apendice){"expediente", "Expediente clínico", "EXP-8841"};
		apendice[2] = (struct dte_apendice){"nota", "Nota \"interna\"", "Sin observaciones \\ ok"};
		in->apendice = apendice;
		in->napendice = 1 + rnd(3);
	}
	if ((in->type == DTE_FE || in->type == DTE_CCF || in->type == DTE_ND) && chance(5))
		in->num_pago_electronico = "NPE-000123456789";
	if (in->type == DTE_FSE && chance(30))
		in->observaciones = "Pago de honorarios del mes de octubre.\nRetención de renta 10 %.";

	/* condition and pagos (amounts set on the second pass) */
	k = (int)rnd(10);
	in->condicion_operacion = k < 6 ? 1 : (k < 9 ? 2 : 3);
	in->npagos = 0;
	if (in->type == DTE_NC || in->type == DTE_ND)
		return;
	if (in->condicion_operacion == 2 || chance(60)) {
		size_t n = chance(25) ? 2 : 1;

		for (size_t i = 0; i < n; i++) {
			memset(&pagos[i], 0, sizeof(pagos[i]));
			pagos[i].codigo = PICK(pago_codes);
			pagos[i].referencia = chance(40) ? "REF-778812" : NULL;
			if (in->condicion_operacion == 2 || chance(10)) {
				static const char *const plazos[] = {"01", "02", "03"};

				pagos[i].plazo = PICK(plazos);
				pagos[i].periodo = 1 + (int)rnd(90);
			}
		}
		pagos[n - 1].rest = true;
		in->pagos = pagos;
		in->npagos = n;
	}
}

/* Build with the refusals a random input can meet turned into fixes: an
 * anonymous Factura of 1,095.00 or more gets a buyer, a CCF/NC/ND of 0.00
 * gets a taxable line. Any other refusal is a bug: exit. */
static json_t *build(struct dte_input *in, struct dte_totals *t, int n)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		json_t *doc = NULL;
		struct err e;

		err_clear(&e);
		if (dte_build(in, &doc, t, &e) == 0)
			return doc;
		if (strcmp(e.field, "receptor") == 0 && in->type == DTE_FE) {
			in->receptor = make_receptor_fe(true);
			continue;
		}
		if (strcmp(e.field, "resumen.totalPagar") == 0) {
			/* negative cargos/abonos larger than the sale: drop them */
			for (size_t i = 0; i < in->nitems; i++)
				if (items[i].no_gravado_e8 < 0)
					items[i].no_gravado_e8 = 0;
			continue;
		}
		if (strcmp(e.field, "resumen.condicionOperacion") == 0) {
			/* nothing to pay: contado */
			in->condicion_operacion = 1;
			for (size_t i = 0; i < in->npagos; i++)
				pagos[i].plazo = NULL;
			continue;
		}
		if (strcmp(e.field, "resumen.montoTotalOperacion") == 0 && in->nitems < MAX_ITEMS) {
			struct dte_item *it = &items[in->nitems++];

			make_item(it, in->type, in->ndoc_rel);
			it->treatment = DTE_GRAVADA;
			it->cantidad_e8 = 1 * E8;
			it->precio_uni_e8 = 10 * E8;
			it->monto_descu_e8 = 0;
			continue;
		}
		fprintf(stderr, "dte_corpus: document %d (%s) refused: %s (%s)\n", n, dte_type_code(in->type),
			e.message, e.field);
		exit(1);
	}
	fprintf(stderr, "dte_corpus: document %d could not be built\n", n);
	exit(1);
}

static int64_t part(int64_t total, int max_pct)
{
	return total > 0 ? (int64_t)rnd((uint64_t)(total * max_pct / 100) + 1) : 0;
}

static void write_doc(const char *dir, int n, enum dte_type type, json_t *doc)
{
	char path[4096], *text;
	struct err e;
	FILE *f;

	if (dte_verify(doc, true, &e) != 0) {
		fprintf(stderr, "dte_corpus: document %d fails dte_verify: %s (%s)\n", n, e.message, e.field);
		exit(1);
	}
	if (dte_json_dump(doc, &text, &e) != 0) {
		fprintf(stderr, "dte_corpus: document %d: %s\n", n, e.message);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%05d-%s.json", dir, n, dte_type_code(type));
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "dte_corpus: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(text);
}

int main(int argc, char **argv)
{
	static const enum dte_type types[] = {DTE_FE, DTE_CCF, DTE_NC, DTE_ND, DTE_FSE};
	static const char *const motives[] = {"Corte de energía eléctrica en la zona", "X",
					      "Falla del proveedor de Internet; se emitió en contingencia según el "
					      "procedimiento interno \"PC-07\""};
	const char *dir;
	int count = 1000, per_type[15] = {0}, contingency = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: dte_corpus OUTDIR [COUNT [SEED]]\n");
		return 2;
	}
	dir = argv[1];
	if (argc > 2)
		count = atoi(argv[2]);
	if (argc > 3)
		rng = strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	if (count < 1) {
		fprintf(stderr, "dte_corpus: COUNT must be at least 1\n");
		return 2;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "dte_corpus: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}

	for (int n = 0; n < count; n++) {
		enum dte_type type = types[n % 5];
		struct dte_input in;
		struct dte_totals t;
		char nc[DTE_NUMERO_CONTROL_LEN + 1], fec[16], hor[16];
		struct err e;
		json_t *doc;
		size_t nitems;

		ntexts = 0;
		memset(&in, 0, sizeof(in));
		in.type = type;
		in.ambiente = chance(80) ? "00" : "01";
		if (dte_numero_control(type, chance(50) ? "M001" : "0001", chance(50) ? "P001" : "0002",
				       1 + (int64_t)rnd(999999999999999LL), nc, &e) != 0) {
			fprintf(stderr, "dte_corpus: %s\n", e.message);
			return 1;
		}
		in.numero_control = nc;
		uuid_v4_upper(uuid_text[0]);
		in.codigo_generacion = uuid_text[0];
		snprintf(fec, sizeof(fec), "2025-%02d-%02d", (int)(1 + rnd(12)), (int)(1 + rnd(28)));
		snprintf(hor, sizeof(hor), "%02d:%02d:%02d", (int)rnd(24), (int)rnd(60), (int)rnd(60));
		in.fec_emi = fec;
		in.hor_emi = hor;
		if (chance(20)) {
			in.tipo_contingencia = 1 + (int)rnd(5);
			if (in.tipo_contingencia == 5 || chance(30))
				in.motivo_contin = type == DTE_FE ? motives[0] : PICK(motives);
			contingency++;
		}
		make_emisor(type);
		in.emisor = &emisor;
		if (type == DTE_FE)
			in.receptor = make_receptor_fe(false);
		else if (type == DTE_FSE)
			in.receptor = make_sujeto();
		else
			in.receptor = make_receptor_company();
		make_related(&in);
		nitems = (n == 0) ? MAX_ITEMS : 1 + rnd(chance(10) ? 40 : 6);
		for (size_t i = 0; i < nitems; i++)
			make_item(&items[i], type, in.ndoc_rel);
		in.items = items;
		in.nitems = nitems;
		make_blocks(&in);

		/* first pass: the totals, to choose discounts, retentions and pagos that fit */
		doc = build(&in, &t, n);
		json_decref(doc);
		if (type == DTE_FSE) {
			if (chance(30))
				in.descu_cents = part(t.sub_total_ventas_cents, 100);
		} else if (chance(30)) {
			in.descu_gravada_cents = part(t.total_gravada_cents, chance(10) ? 100 : 20);
			in.descu_exenta_cents = part(t.total_exenta_cents, 30);
			in.descu_no_suj_cents = part(t.total_no_suj_cents, 30);
		}
		doc = build(&in, &t, n);
		json_decref(doc);
		if (type == DTE_FSE) {
			if (chance(50))
				in.rete_renta_cents = t.sub_total_cents / 10;
		} else if (t.total_gravada_cents > 0 && chance(20)) {
			in.iva_rete1_cents = t.total_gravada_cents / 100;
			if (type != DTE_FE && chance(40))
				in.iva_perci1_cents = t.total_gravada_cents / 100;
		}
		if (type != DTE_FSE && chance(10))
			in.rete_renta_cents = t.sub_total_cents / 10;
		doc = build(&in, &t, n);
		json_decref(doc);
		if (in.npagos == 2)
			pagos[0].monto_cents = part(t.total_pagar_cents, 100);

		doc = build(&in, &t, n);
		write_doc(dir, n, type, doc);
		json_decref(doc);
		per_type[type]++;
	}
	printf("dte_corpus: wrote %d documents to %s (01: %d, 03: %d, 05: %d, 06: %d, 14: %d; %d in contingency)\n",
	       count, dir, per_type[DTE_FE], per_type[DTE_CCF], per_type[DTE_NC], per_type[DTE_ND], per_type[DTE_FSE],
	       contingency);
	return 0;
}
