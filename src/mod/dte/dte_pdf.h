/*
 * dte_pdf.h - the "representación gráfica" of a DTE as a PDF.
 *
 * Input: the document AS DELIVERED to the buyer (shared/dte-sv/README.md
 * §2.4): the DTE JSON object (identificacion, emisor, receptor or
 * sujetoExcluido, cuerpoDocumento, resumen, ...) plus the two top-level keys
 * "firmaElectronica" (the JWS string, or null/absent when not signed yet) and
 * "selloRecibido" (MH's 40-character seal, null while pending), and the
 * document's status in the engine. Output: a complete PDF (libharu, base-14
 * Helvetica with WinAnsi encoding, so Spanish accents print correctly) in an
 * owned buffer.
 *
 * Layout (US Letter, MH's suggested layout of Manual Funcional §XXII): header
 * "DOCUMENTO TRIBUTARIO ELECTRÓNICO" with the document type (FACTURA,
 * COMPROBANTE DE CRÉDITO FISCAL, NOTA DE CRÉDITO, NOTA DE DÉBITO, FACTURA DE
 * SUJETO EXCLUIDO), Código de generación, Número de control, Sello de
 * recepción, Modelo de facturación, Tipo de transmisión (and contingency
 * type/reason), Fecha y hora de generación, status, and the QR code of MH's
 * public consultation URL (dte_pdf_consulta_url); a banner and a diagonal
 * watermark when the status is not PROCESADO, and a test-environment notice
 * when ambiente is "00"; emisor and receptor blocks (receptor document label
 * from tipoDocumento: DUI, NIT, Pasaporte...; "Consumidor final" for an
 * anonymous Factura); related documents, associated documents (médico) and
 * venta a cuenta de terceros when present; the items table (cantidad, unidad,
 * descripción, precio unitario, descuento, ventas no sujetas / exentas /
 * gravadas, or compra for tipo 14) repeated across pages as needed; the
 * resumen (sums, discounts, tributos incl. IVA, IVA percibido/retenido,
 * retención de renta, monto total, total a pagar, valor en letras),
 * condición de la operación, pagos, extension and apéndice; an abbreviated
 * firmaElectronica (first and last characters only, never the whole JWS); and
 * "Página x de y" on every page. Amounts print exactly as the JSON carries
 * them (no binary rounding): the tree may come from json_loads (decimals as
 * reals) or from dte_json_load / dte_build (decimals as dte_doc's exact marker
 * strings); both render byte-for-byte the same PDF.
 *
 * The renderer reads the v1-generation field names (FE v1, CCF/NC/ND v3,
 * FSE v1) and also the Normativa 2.0 renames it knows (ivaRete, ivaPerci);
 * a field that is absent is simply not printed.
 */
#ifndef CL_MOD_DTE_PDF_H
#define CL_MOD_DTE_PDF_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/* Default base of the QR / public consultation URL (README §5). */
#define DTE_PDF_CONSULTA_BASE "https://admin.factura.gob.sv/consultaPublica"

/* Status labels the renderer knows. PROCESADO requires a selloRecibido;
 * every other status prints a banner and a watermark. */
#define DTE_STATUS_PROCESADO	"PROCESADO"
#define DTE_STATUS_PENDIENTE	"PENDIENTE"    /* signed, not yet accepted by MH */
#define DTE_STATUS_CONTINGENCIA "CONTINGENCIA" /* issued in contingency, not yet reported */
#define DTE_STATUS_RECHAZADO	"RECHAZADO"    /* rejected by MH */
#define DTE_STATUS_INVALIDADO	"INVALIDADO"   /* invalidated (evento de invalidación sealed) */

struct dte_pdf_options {
	const char *status;	   /* required: one of the DTE_STATUS_* labels */
	const char *status_detail; /* optional line printed in the banner (e.g. MH's descripcionMsg
				      for a rejection); NULL = none. Never put secrets here. */
	const char *consulta_base; /* optional QR URL base; NULL = DTE_PDF_CONSULTA_BASE */
};

/* Render `delivered` (borrowed, not modified) with status `status` (one of
 * DTE_STATUS_*). On success *pdf is an owned buffer of *pdf_len bytes (free()
 * it) holding a complete PDF. Errors: ERR_INVALID naming the field when the
 * document lacks what a rendering needs (identificacion.tipoDte of a known
 * type, codigoGeneracion, numeroControl, fecEmi, horEmi, ambiente; emisor;
 * cuerpoDocumento (1..2000 items); resumen), when status is unknown ("status")
 * or when status is PROCESADO without a selloRecibido ("selloRecibido");
 * ERR_INTERNAL when libharu or libqrencode fail. On error *pdf is NULL. */
int dte_pdf_render(const json_t *delivered, const char *status, unsigned char **pdf, size_t *pdf_len, struct err *e);

/* Same with options (opts required; opts->status required). */
int dte_pdf_render_opts(const json_t *delivered, const struct dte_pdf_options *opts, unsigned char **pdf,
			size_t *pdf_len, struct err *e);

/* MH's public consultation URL of a DTE (the QR content):
 *   <base>?ambiente=<ambiente>&codGen=<codigoGeneracion>&fechaEmi=<fecEmi>
 * from dte.identificacion (a DTE or a delivered document, borrowed). base NULL
 * = DTE_PDF_CONSULTA_BASE. Values are percent-encoded where needed. *url is
 * owned (free()). ERR_INVALID naming the missing identificacion field. */
int dte_pdf_consulta_url(const json_t *dte, const char *base, char **url, struct err *e);

/* Upper-case Spanish name of a tipoDte ("03" -> "COMPROBANTE DE CRÉDITO
 * FISCAL"), UTF-8, static storage; NULL when unknown. */
const char *dte_pdf_type_name(const char *tipo_dte);

#endif
