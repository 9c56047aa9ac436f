-- wrk script of scripts/bench-replicas.sh: a mixed API load as om and scripts send it, with the
-- token and the staged product's GUID from the environment (BENCH_TOKEN, BENCH_GUID). Per ten
-- requests: 3 reads of the staged products, 3 of the product's properties, 2 of the Change Log,
-- 1 of pending changes, 1 staged write of one property (without a version, as om sends it).
local token = os.getenv("BENCH_TOKEN")
local guid = os.getenv("BENCH_GUID")
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
}
local properties = "/api/v0/staged/products/" .. guid .. "/properties"
local reads = {
  "/api/v0/staged/products", properties, "/api/v0/installations",
  "/api/v0/staged/products", properties, "/api/v0/installations",
  "/api/v0/staged/products", properties, "/api/v0/staged/pending_changes",
}
local n = 0

function request()
  n = n + 1
  local turn = n % 10
  if turn == 0 then
    local body = '{"properties": {".properties.pks_api_hostname": {"value": "api-' .. n ..
      '.pks.example.com"}}}'
    return wrk.format("PUT", properties, headers, body)
  end
  return wrk.format("GET", reads[turn], headers)
end
