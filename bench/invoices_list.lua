-- invoices_list.lua - wrk script: GET /api/v1/invoices?status=pending&limit=20
-- (the query is in the URL given to wrk). Env: BENCH_TOKEN.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
