-- invoices_get.lua - wrk script: GET /api/v1/invoices/:id (the id is in the
-- URL given to wrk). Env: BENCH_TOKEN.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
