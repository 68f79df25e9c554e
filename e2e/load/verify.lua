-- wrk script: POST /credentials/verify of the request body in the file $CERTUS_VERIFY_BODY,
-- with the token in $CERTUS_TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CERTUS_TOKEN")
local file = assert(io.open(os.getenv("CERTUS_VERIFY_BODY"), "r"))
wrk.body = file:read("*a")
file:close()

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
