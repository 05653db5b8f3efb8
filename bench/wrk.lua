-- wrk script for `make bench`: send the session cookie (and any extra headers the page names)
-- and accept compression like a browser,
-- then print one machine-readable line with throughput and latency percentiles (ms).
local cookie = os.getenv("BENCH_COOKIE")
wrk.headers["Accept-Encoding"] = "br, gzip"
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
-- More headers, one "Name: value" a line (an htmx request's HX-Request, for a fragment).
local extra = os.getenv("BENCH_HEADERS") or ""
for name, value in extra:gmatch("([^:\n]+):%s*([^\n]*)") do
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f p50=%.2f p95=%.2f p99=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
