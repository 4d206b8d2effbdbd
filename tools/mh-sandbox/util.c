/*
 * util.c - the MH sandbox's clock, sellos, MH's message texts and response
 * body, and small JSON helpers.
 *
 * Time: MH works in El Salvador local time (America/El_Salvador, UTC-6 all
 * year, no DST since 2006), so dates here are computed with a fixed -6 h.
 * The clock can be moved by /_sandbox/clock to test deadlines.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "sbx.h"

#define SV_OFFSET_S (-6 * 3600)

static _Atomic int64_t clock_offset_s;

int64_t sbx_now(void)
{
	return time_now_s() + atomic_load(&clock_offset_s);
}

void sbx_clock_set_offset(int64_t offset_s)
{
	atomic_store(&clock_offset_s, offset_s);
}

int64_t sbx_clock_offset(void)
{
	return atomic_load(&clock_offset_s);
}

void sbx_local(int64_t epoch_s, char date[11], char time_of_day[9])
{
	int64_t t = epoch_s + SV_OFFSET_S;
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	date_from_days(days, date);
	snprintf(time_of_day, 9, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

void sbx_fh(int64_t epoch_s, char out[20])
{
	char d[11], t[9];
	sbx_local(epoch_s, d, t);
	/* YYYY-MM-DD -> dd/MM/yyyy */
	snprintf(out, 20, "%.2s/%.2s/%.4s %s", d + 8, d + 5, d, t);
}

int64_t sbx_local_epoch(const char *date, const char *time_of_day)
{
	int64_t days = date_to_days(date);
	int h = 0, m = 0, s = 0;
	if (days == INT64_MIN)
		return INT64_MIN;
	if (time_of_day && sscanf(time_of_day, "%d:%d:%d", &h, &m, &s) < 2)
		return INT64_MIN;
	return days * 86400 + h * 3600 + m * 60 + s - SV_OFFSET_S;
}

void sbx_sello(int64_t epoch_s, char out[SBX_SELLO_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[SBX_SELLO_LEN];
	char d[11], t[9];

	sbx_local(epoch_s, d, t);
	memcpy(out, d, 4); /* MH's sellos start with the year: "2022..." */
	crypto_random(rnd, sizeof(rnd));
	for (int i = 4; i < SBX_SELLO_LEN; i++)
		out[i] = alphabet[rnd[i] % 36];
	out[SBX_SELLO_LEN] = '\0';
}

/* README §1.3 (codigoMsg) */
static const struct {
	const char *code;
	const char *text;
} messages[] = {
    {"001", "RECIBIDO"},
    {"002", "RECIBIDO CON OBSERVACIONES"},
    {"003", "VALOR NO VALIDO"},
    {"004", "YA EXISTE UN REGISTRO CON ESE VALOR"},
    {"005", "DEBE PROPORCIONAR UN VALOR"},
    {"006", "FORMATO NO VALIDO"},
    {"007", "VALOR NO ES PERMITIDO"},
    {"008", "NO CORRESPONDE A CONTRIBUYENTE"},
    {"009", "NIT CONTRIBUYENTE NO EXISTE"},
    {"010", "CONTRIBUYENTE NO SE ENCUENTRA ACTIVO"},
    {"011", "NO ES CONTRIBUYENTE IVA"},
    {"012", "NO EXISTE EVENTO DE CONTINGENCIA"},
    {"013", "NO ESTA ENTRE PERIODO REPORTADO EN EVENTO DE CONTINGENCIA"},
    {"014", "NO EXISTE UN REGISTRO CON ESTE DATO"},
    {"015", "DOCUMENTO SE ENCUENTA ANULADO"},
    {"016", "MONTO DE OPERACIÓN ES MAYOR AL DOCUMENTO RELACIONADO"},
    {"017", "FECHA NO ES CORRECTA"},
    {"018", "FECHA FUERA DE PLAZO PERMITIDO"},
    {"019", "ERROR EN CORRELATIVO"},
    {"020", "CALCULO INCORRECTO"},
    {"021", "NO SE PUEDE VALIDAR CAMPO"},
    {"022", "SERVICIO DE VALIDACION DE FIRMA NO DISPONIBLE"},
    {"023", "FALTAN DATOS PARA VALIDAR INFORMACION"},
    {"024", "VALOR EN CAMPO NO APLICA"},
    {"025", "VALORES REPETIDOS"},
    {"026", "NO SE PERMITEN VALORES DIFERENTES"},
    {"027", "DATO NO COINCIDE CON DTE"},
    {"028", "DTE ESTA RELACIONADO CON OTRO DTE"},
    {"096", "DOCUMENTO NO CUMPLE ESQUEMA JSON"},
    {"097", "NO SE HA PROPORCIONADO DATOS PARA VALIDAR"},
    {"098", "DATOS NO CUMPLEN ESTANDAR JSON"},
    {"099", "ERROR NO CATALOGADO"},
    {"100", "ERROR USUARIO INCORRECTO"},
    {"106", "CREDENCIALES INVÁLIDAS"},
    {"107", "ERROR TOKEN INVÁLIDO"},
    {"108", "ERROR TOKEN ES REQUERIDO"},
    /* firmador family (README §2.1) */
    {"801", "No existe certificado activo"},
    {"802", "No valido"},
    {"803", "No existe llave publica para este nit"},
};

const char *sbx_msg_text(const char *code)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (strcmp(messages[i].code, code) == 0)
			return messages[i].text;
	return NULL;
}

json_t *sbx_mh_response(const char *codigo_generacion, const char *estado, const char *sello, int64_t processed_at,
			const char *clasifica, const char *codigo_msg, const char *descripcion, json_t *observaciones)
{
	char fh[20];
	sbx_fh(processed_at, fh);
	return json_pack("{s:i, s:s, s:i, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o}", "version", 2, "ambiente",
			 sbx_cfg.ambiente, "versionApp", 2, "estado", estado, "codigoGeneracion",
			 codigo_generacion ? json_string(codigo_generacion) : json_null(), "selloRecibido",
			 sello && *sello ? json_string(sello) : json_null(), "fhProcesamiento", fh, "clasificaMsg",
			 clasifica, "codigoMsg", codigo_msg, "descripcionMsg", descripcion, "observaciones",
			 observaciones ? observaciones : json_array());
}

const char *sbx_str(const json_t *obj, const char *name)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const json_t *sbx_get(const json_t *root, const char *path)
{
	char seg[64];
	const json_t *cur = root;
	while (cur && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		cur = json_is_object(cur) ? json_object_get(cur, seg) : NULL;
		path += n;
		if (*path == '.')
			path++;
	}
	return cur;
}

bool sbx_nit_valid(const char *nit)
{
	size_t n = nit ? strlen(nit) : 0;
	if (n != 14 && n != 9)
		return false;
	for (size_t i = 0; i < n; i++)
		if (nit[i] < '0' || nit[i] > '9')
			return false;
	return true;
}
