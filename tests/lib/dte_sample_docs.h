/*
 * dte_sample_docs.h - hand-written, schema-valid DTE documents (README §3 and
 * MH's official CCF example) shared by the schema validator's tests and the
 * MH sandbox's tests: a CCF (03), a Factura (01), a Nota de Crédito (05), a
 * Sujeto Excluido (14), an invalidation event and a contingency event, as
 * JSON text. Included by one test program each (static data).
 */
#ifndef CL_TESTS_DTE_SAMPLE_DOCS_H
#define CL_TESTS_DTE_SAMPLE_DOCS_H

static const char DOC_CCF[] =
    "{\"identificacion\":{\"version\":3,\"ambiente\":\"00\",\"tipoDte\":\"03\",\"numeroControl\":\"DTE-03-00010001-"
    "000000000000001\",\"codigoGeneracion\":\"8A1B5C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D\",\"tipoModelo\":1,"
    "\"tipoOperacion\":1,\"tipoContingencia\":null,\"motivoContin\":null,\"fecEmi\":\"2025-10-14\",\"horEmi\":\"10:30:"
    "00\",\"tipoMoneda\":\"USD\"},"
    "\"documentoRelacionado\":null,"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nrc\":\"1234567\",\"nombre\":\"Clinica Demo S.A. de "
    "C.V.\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas médicas\",\"nombreComercial\":\"Clínica "
    "Demo\",\"tipoEstablecimiento\":\"02\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":"
    "\"Colonia Escalón, San "
    "Salvador\"},\"telefono\":\"22223333\",\"correo\":\"facturacion@clinica.test\",\"codEstableMH\":null,"
    "\"codEstable\":\"0001\",\"codPuntoVentaMH\":null,\"codPuntoVenta\":\"0001\"},"
    "\"receptor\":{\"nit\":\"06142004981074\",\"nrc\":\"7654321\",\"nombre\":\"Empresa Cliente "
    "S.A.\",\"codActividad\":\"46900\",\"descActividad\":\"Venta al por "
    "mayor\",\"nombreComercial\":null,\"direccion\":{\"departamento\":\"05\",\"municipio\":\"01\",\"complemento\":"
    "\"Santa Tecla\"},\"telefono\":\"22334455\",\"correo\":\"compras@cliente.test\"},"
    "\"otrosDocumentos\":null,"
    "\"ventaTercero\":null,"
    "\"cuerpoDocumento\":[{\"numItem\":1,\"tipoItem\":2,\"numeroDocumento\":null,\"codigo\":\"CONS-001\","
    "\"codTributo\":null,\"descripcion\":\"Consulta médica "
    "especializada\",\"cantidad\":1,\"uniMedida\":59,\"precioUni\":2000,\"montoDescu\":0,\"ventaNoSuj\":0,"
    "\"ventaExenta\":0,\"ventaGravada\":2000,\"tributos\":[\"20\"],\"psv\":0,\"noGravado\":0}],"
    "\"resumen\":{\"totalNoSuj\":0,\"totalExenta\":0,\"totalGravada\":2000,\"subTotalVentas\":2000,\"descuNoSuj\":0,"
    "\"descuExenta\":0,\"descuGravada\":0,\"porcentajeDescuento\":0,\"totalDescu\":0,\"tributos\":[{\"codigo\":\"20\","
    "\"descripcion\":\"Impuesto al Valor Agregado "
    "13%\",\"valor\":260}],\"subTotal\":2000,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":"
    "2260,\"totalNoGravado\":0,\"totalPagar\":2260,\"totalLetras\":\"DOS MIL DOSCIENTOS SESENTA 00/100 "
    "DÓLARES\",\"saldoFavor\":0,\"condicionOperacion\":1,\"pagos\":[{\"codigo\":\"01\",\"montoPago\":2260,"
    "\"referencia\":null,\"plazo\":null,\"periodo\":null}],\"numPagoElectronico\":null},"
    "\"extension\":null,"
    "\"apendice\":null}";

static const char DOC_FE[] =
    "{\"identificacion\":{\"version\":1,\"ambiente\":\"00\",\"tipoDte\":\"01\",\"numeroControl\":\"DTE-01-00010001-"
    "000000000000007\",\"codigoGeneracion\":\"4F3C2B1A-0E9D-4C8B-9A7F-6E5D4C3B2A19\",\"tipoModelo\":1,"
    "\"tipoOperacion\":1,\"tipoContingencia\":null,\"motivoContin\":null,\"fecEmi\":\"2025-10-14\",\"horEmi\":\"09:15:"
    "00\",\"tipoMoneda\":\"USD\"},"
    "\"documentoRelacionado\":null,"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nrc\":\"1234567\",\"nombre\":\"Clinica Demo S.A. de "
    "C.V.\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas médicas\",\"nombreComercial\":\"Clínica "
    "Demo\",\"tipoEstablecimiento\":\"02\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":"
    "\"Colonia Escalón, San "
    "Salvador\"},\"telefono\":\"22223333\",\"correo\":\"facturacion@clinica.test\",\"codEstableMH\":null,"
    "\"codEstable\":\"0001\",\"codPuntoVentaMH\":null,\"codPuntoVenta\":\"0001\"},"
    "\"receptor\":{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nrc\":null,\"nombre\":\"Paciente "
    "Ejemplo\",\"codActividad\":null,\"descActividad\":null,\"direccion\":null,\"telefono\":null,\"correo\":\"paciente@"
    "correo.test\"},"
    "\"otrosDocumentos\":null,"
    "\"ventaTercero\":null,"
    "\"cuerpoDocumento\":[{\"numItem\":1,\"tipoItem\":2,\"numeroDocumento\":null,\"cantidad\":1,\"codigo\":\"CONS-"
    "001\",\"codTributo\":null,\"uniMedida\":59,\"descripcion\":\"Consulta "
    "general\",\"precioUni\":35,\"montoDescu\":0,\"ventaNoSuj\":0,\"ventaExenta\":0,\"ventaGravada\":35,\"tributos\":"
    "null,\"psv\":0,\"noGravado\":0,\"ivaItem\":4.02654867},{\"numItem\":2,\"tipoItem\":1,\"numeroDocumento\":null,"
    "\"cantidad\":3,\"codigo\":\"MED-010\",\"codTributo\":null,\"uniMedida\":59,\"descripcion\":\"Medicamento "
    "exento\",\"precioUni\":1.15,\"montoDescu\":0,\"ventaNoSuj\":0,\"ventaExenta\":3.45,\"ventaGravada\":0,"
    "\"tributos\":null,\"psv\":0,\"noGravado\":0,\"ivaItem\":0}],"
    "\"resumen\":{\"totalNoSuj\":0,\"totalExenta\":3.45,\"totalGravada\":35,\"subTotalVentas\":38.45,\"descuNoSuj\":0,"
    "\"descuExenta\":0,\"descuGravada\":0,\"porcentajeDescuento\":0,\"totalDescu\":0,\"tributos\":null,\"subTotal\":38."
    "45,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":38.45,\"totalNoGravado\":0,\"totalPagar\":38.45,"
    "\"totalLetras\":\"TREINTA Y OCHO 45/100 "
    "DÓLARES\",\"totalIva\":4.03,\"saldoFavor\":0,\"condicionOperacion\":1,\"pagos\":[{\"codigo\":\"01\",\"montoPago\":"
    "38.45,\"referencia\":null,\"plazo\":null,\"periodo\":null}],\"numPagoElectronico\":null},"
    "\"extension\":null,"
    "\"apendice\":null}";

static const char DOC_NC[] =
    "{\"identificacion\":{\"version\":3,\"ambiente\":\"00\",\"tipoDte\":\"05\",\"numeroControl\":\"DTE-05-00010001-"
    "000000000000001\",\"codigoGeneracion\":\"1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F\",\"tipoModelo\":1,"
    "\"tipoOperacion\":1,\"tipoContingencia\":null,\"motivoContin\":null,\"fecEmi\":\"2025-10-15\",\"horEmi\":\"11:00:"
    "00\",\"tipoMoneda\":\"USD\"},"
    "\"documentoRelacionado\":[{\"tipoDocumento\":\"03\",\"tipoGeneracion\":2,\"numeroDocumento\":\"8A1B5C2D-3E4F-4A5B-"
    "8C6D-7E8F9A0B1C2D\",\"fechaEmision\":\"2025-10-14\"}],"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nrc\":\"1234567\",\"nombre\":\"Clinica Demo S.A. de "
    "C.V.\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas médicas\",\"nombreComercial\":\"Clínica "
    "Demo\",\"tipoEstablecimiento\":\"02\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":"
    "\"Colonia Escalón, San Salvador\"},\"telefono\":\"22223333\",\"correo\":\"facturacion@clinica.test\"},"
    "\"receptor\":{\"nit\":\"06142004981074\",\"nrc\":\"7654321\",\"nombre\":\"Empresa Cliente "
    "S.A.\",\"codActividad\":\"46900\",\"descActividad\":\"Venta al por "
    "mayor\",\"nombreComercial\":null,\"direccion\":{\"departamento\":\"05\",\"municipio\":\"01\",\"complemento\":"
    "\"Santa Tecla\"},\"telefono\":\"22334455\",\"correo\":\"compras@cliente.test\"},"
    "\"ventaTercero\":null,"
    "\"cuerpoDocumento\":[{\"numItem\":1,\"tipoItem\":2,\"numeroDocumento\":\"8A1B5C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D\","
    "\"codigo\":\"CONS-001\",\"codTributo\":null,\"descripcion\":\"Descuento sobre "
    "consulta\",\"cantidad\":1,\"uniMedida\":59,\"precioUni\":200,\"montoDescu\":0,\"ventaNoSuj\":0,\"ventaExenta\":0,"
    "\"ventaGravada\":200,\"tributos\":[\"20\"]}],"
    "\"resumen\":{\"totalNoSuj\":0,\"totalExenta\":0,\"totalGravada\":200,\"subTotalVentas\":200,\"descuNoSuj\":0,"
    "\"descuExenta\":0,\"descuGravada\":0,\"totalDescu\":0,\"tributos\":[{\"codigo\":\"20\",\"descripcion\":\"Impuesto "
    "al Valor Agregado "
    "13%\",\"valor\":26}],\"subTotal\":200,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":226,"
    "\"totalLetras\":\"DOSCIENTOS VEINTISEIS 00/100 DÓLARES\",\"condicionOperacion\":1},"
    "\"extension\":null,"
    "\"apendice\":null}";

static const char DOC_FSE[] =
    "{\"identificacion\":{\"version\":1,\"ambiente\":\"00\",\"tipoDte\":\"14\",\"numeroControl\":\"DTE-14-00010001-"
    "000000000000001\",\"codigoGeneracion\":\"2B3C4D5E-6F7A-4B8C-9D0E-1F2A3B4C5D6E\",\"tipoModelo\":1,"
    "\"tipoOperacion\":1,\"tipoContingencia\":null,\"motivoContin\":null,\"fecEmi\":\"2025-10-15\",\"horEmi\":\"12:00:"
    "00\",\"tipoMoneda\":\"USD\"},"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nrc\":\"1234567\",\"nombre\":\"Clinica Demo S.A. de "
    "C.V.\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas "
    "médicas\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":\"Colonia Escalón, San "
    "Salvador\"},\"telefono\":\"22223333\",\"codEstableMH\":null,\"codEstable\":\"0001\",\"codPuntoVentaMH\":null,"
    "\"codPuntoVenta\":\"0001\",\"correo\":\"facturacion@clinica.test\"},"
    "\"sujetoExcluido\":{\"tipoDocumento\":\"13\",\"numDocumento\":\"023827235\",\"nombre\":\"Proveedor "
    "Informal\",\"codActividad\":null,\"descActividad\":null,\"direccion\":{\"departamento\":\"06\",\"municipio\":"
    "\"14\",\"complemento\":\"Mercado Central, San Salvador\"},\"telefono\":null,\"correo\":null},"
    "\"cuerpoDocumento\":[{\"numItem\":1,\"tipoItem\":1,\"cantidad\":3,\"codigo\":null,\"uniMedida\":59,"
    "\"descripcion\":\"Insumos de limpieza\",\"precioUni\":1.15,\"montoDescu\":0,\"compra\":3.45}],"
    "\"resumen\":{\"totalCompra\":3.45,\"descu\":0,\"totalDescu\":0,\"subTotal\":3.45,\"ivaRete1\":0,\"reteRenta\":0,"
    "\"totalPagar\":3.45,\"totalLetras\":\"TRES 45/100 "
    "DÓLARES\",\"condicionOperacion\":1,\"pagos\":[{\"codigo\":\"01\",\"montoPago\":3.45,\"referencia\":null,\"plazo\":"
    "null,\"periodo\":null}],\"observaciones\":null},"
    "\"apendice\":null}";

static const char DOC_ANULACION[] =
    "{\"identificacion\":{\"version\":2,\"ambiente\":\"00\",\"codigoGeneracion\":\"3C4D5E6F-7A8B-4C9D-8E0F-"
    "1A2B3C4D5E6F\",\"fecAnula\":\"2025-10-15\",\"horAnula\":\"13:00:00\"},"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nombre\":\"Clinica Demo S.A. de "
    "C.V.\",\"tipoEstablecimiento\":\"02\",\"nomEstablecimiento\":\"Casa "
    "matriz\",\"codEstableMH\":null,\"codEstable\":\"0001\",\"codPuntoVentaMH\":null,\"codPuntoVenta\":\"0001\","
    "\"telefono\":\"22223333\",\"correo\":\"facturacion@clinica.test\"},"
    "\"documento\":{\"tipoDte\":\"03\",\"codigoGeneracion\":\"8A1B5C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D\",\"selloRecibido\":"
    "\"2025AB12CD34EF56GH78IJ90KL12MN34OP56QR78\",\"numeroControl\":\"DTE-03-00010001-000000000000001\",\"fecEmi\":"
    "\"2025-10-14\",\"montoIva\":260,\"codigoGeneracionR\":null,\"tipoDocumento\":\"36\",\"numDocumento\":"
    "\"06142004981074\",\"nombre\":\"Empresa Cliente "
    "S.A.\",\"telefono\":\"22334455\",\"correo\":\"compras@cliente.test\"},"
    "\"motivo\":{\"tipoAnulacion\":2,\"motivoAnulacion\":null,\"nombreResponsable\":\"Ana María "
    "Pérez\",\"tipDocResponsable\":\"13\",\"numDocResponsable\":\"02382723-5\",\"nombreSolicita\":\"Carlos "
    "López\",\"tipDocSolicita\":\"13\",\"numDocSolicita\":\"02382723-5\"}}";

static const char DOC_CONTINGENCIA[] =
    "{\"identificacion\":{\"version\":3,\"ambiente\":\"00\",\"codigoGeneracion\":\"4D5E6F7A-8B9C-4DAE-8F1A-"
    "2B3C4D5E6F7A\",\"fTransmision\":\"2025-10-16\",\"hTransmision\":\"08:00:00\"},"
    "\"emisor\":{\"nit\":\"06141809480014\",\"nombre\":\"Clinica Demo S.A. de C.V.\",\"nombreResponsable\":\"Ana María "
    "Pérez\",\"tipoDocResponsable\":\"13\",\"numeroDocResponsable\":\"02382723-5\",\"tipoEstablecimiento\":\"02\","
    "\"codEstableMH\":null,\"codPuntoVenta\":\"0001\",\"telefono\":\"22223333\",\"correo\":\"facturacion@clinica."
    "test\"},"
    "\"detalleDTE\":[{\"noItem\":1,\"codigoGeneracion\":\"5E6F7A8B-9C0D-4EBF-9A2B-3C4D5E6F7A8B\",\"tipoDoc\":\"01\"},{"
    "\"noItem\":2,\"codigoGeneracion\":\"6F7A8B9C-0D1E-4FC0-8B3C-4D5E6F7A8B9C\",\"tipoDoc\":\"03\"}],"
    "\"motivo\":{\"fInicio\":\"2025-10-15\",\"fFin\":\"2025-10-15\",\"hInicio\":\"14:00:00\",\"hFin\":\"18:30:00\","
    "\"tipoContingencia\":1,\"motivoContingencia\":null}}";


#endif
