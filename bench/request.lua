-- wrk request script: method, body and bearer token from the environment. A `%d` in the body
-- is replaced by a request counter, so that every write really changes something.
local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY") or ""
local headers = {}
if body ~= "" then
  headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
end
local token = os.getenv("WRK_TOKEN") or ""
if token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end
-- WRK_TOKENS (space-separated): a different token on each request, in turn, as from many
-- callers (so that the principal lookups running together cover many callers).
local tokens = {}
for t in string.gmatch(os.getenv("WRK_TOKENS") or "", "%S+") do
  tokens[#tokens + 1] = t
end
local counter = 0

request = function()
  counter = counter + 1
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  end
  local b = nil
  if body ~= "" then
    b = string.gsub(body, "%%d", tostring(counter))
  end
  return wrk.format(method, nil, headers, b)
end
