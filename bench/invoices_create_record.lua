-- invoices_create_record.lua - wrk script for bench/durability.sh: the same
-- POST /api/v1/invoices as invoices_create.lua, and every invoice id the
-- server acknowledged (HTTP 201) appended to BENCH_OUT/acked-<thread>.txt,
-- flushed at once: the server is killed -9 mid-run, wrk is not.
-- Env: BENCH_TOKEN, BENCH_PATIENT, BENCH_OUT.
local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	out = io.open(string.format("%s/acked-%d.txt", os.getenv("BENCH_OUT"), tid), "a")
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"patientId":"' .. os.getenv("BENCH_PATIENT") .. '",' ..
	'"invoiceType":"consultation","invoiceDate":"2025-10-14","currency":"USD","status":"pending",' ..
	'"lineItems":[{"itemName":"General Consultation","quantity":1,"unitPrice":150.00},' ..
	'{"itemName":"Complete Blood Count","quantity":1,"unitPrice":80.00}]}'

function response(status, headers, body)
	if status == 201 then
		local id = string.match(body, '"id":"([0-9a-f%-]+)"')
		if id then
			out:write(id, "\n")
			out:flush()
		end
	end
end
