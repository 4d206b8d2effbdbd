-- invoices_create.lua - wrk script: POST /api/v1/invoices with two lines
-- (the billing-service contract's example), for one patient.
-- Env: BENCH_TOKEN (access token), BENCH_PATIENT (patient id).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"patientId":"' .. os.getenv("BENCH_PATIENT") .. '",' ..
	'"invoiceType":"consultation","invoiceDate":"2025-10-14","dueDate":"2025-11-14",' ..
	'"paymentTerms":"Net 30","gracePeriodDays":7,"lateFeePercentage":2.0,"currency":"USD",' ..
	'"description":"Medical consultation and lab tests","status":"pending","lineItems":[' ..
	'{"itemType":"consultation","itemName":"General Consultation","itemCode":"CONS-GEN",' ..
	'"procedureCode":"99213","quantity":1,"unitPrice":150.00,"unitOfMeasure":"each",' ..
	'"discountPercent":0,"taxPercent":0,"serviceDate":"2025-10-14","diagnosisCodes":["Z00.00"]},' ..
	'{"itemType":"lab_test","itemName":"Complete Blood Count","itemCode":"LAB-CBC",' ..
	'"procedureCode":"85025","quantity":1,"unitPrice":80.00,"serviceDate":"2025-10-14"}]}'
