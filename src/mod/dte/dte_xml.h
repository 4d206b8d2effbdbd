/*
 * dte_xml.h - an XML rendering of a delivered DTE, for systems that need XML
 * (GET /api/dte/xml/:uuid?format=xml).
 *
 * MH defines no XML form of a DTE: the legal document is the JSON. This
 * rendering is a mechanical, lossless mapping of the delivered JSON (the DTE
 * plus "firmaElectronica" and "selloRecibido", README §2.4), so a consumer
 * finds every value under the same name:
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <DTE xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 *     <identificacion>
 *       <version>1</version>
 *       <tipoContingencia xsi:nil="true"/>
 *       ...
 *     </identificacion>
 *     <cuerpoDocumento>
 *       <item>
 *         <numItem>1</numItem>
 *         <tributos>
 *           <item>20</item>
 *         </tributos>
 *         ...
 *   </DTE>
 *
 * - the root object's members become children of <DTE>, in the JSON's order;
 *   each object member becomes an element named after its key;
 * - an array becomes its key's element holding one <item> per entry (nested
 *   arrays nest <item>s); an empty array or object is an empty element;
 * - null is an empty element with xsi:nil="true"; an empty string is <k></k>;
 * - numbers print as exact decimal text without exponent: integers as
 *   integers, reals as the shortest decimal that reads back as the same double
 *   (4.02654867, 72.5, 2260), the exact decimals of a dte_doc tree (marker
 *   strings from dte_build / dte_json_load, see dte_doc.h) as their text; so a
 *   document parsed with json_loads or with dte_json_load renders the same;
 *   booleans as true/false;
 * - text is escaped (&amp; &lt; &gt; &quot; &apos;, CR as &#13;); characters
 *   XML 1.0 cannot carry (NUL and other C0 controls except TAB/LF/CR,
 *   U+FFFE, U+FFFF) become U+FFFD;
 * - two-space indentation, LF line ends, UTF-8 with its declaration.
 * firmaElectronica is included whole (the XML is the full document; the PDF
 * is the one that abbreviates it).
 */
#ifndef CL_MOD_DTE_XML_H
#define CL_MOD_DTE_XML_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/* Render `delivered` (borrowed; a JSON object) as XML. On success *xml is an
 * owned NUL-terminated UTF-8 string (free()) of *xml_len bytes (NUL not
 * counted). Errors: ERR_INVALID when the document is not an object
 * ("document"), when a key is not a usable XML element name (letters, digits,
 * '_', '-', '.', not starting with a digit, '-', '.' or "xml"; e->field is the
 * JSON path), or when nesting is deeper than 32 levels. On error *xml is NULL. */
int dte_xml_render(const json_t *delivered, char **xml, size_t *xml_len, struct err *e);

#endif
