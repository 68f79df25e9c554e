-- Shared by the wrk scripts: POST `body` as JSON with the token in $CERTUS_TOKEN, and
-- count the answers whose status is not `expected`, showing the first three.
return function(body, expected)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("CERTUS_TOKEN")
  wrk.body = body
  local errors = 0
  response = function(status, headers, answer)
    if status ~= expected then
      errors = errors + 1
      if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. answer .. "\n") end
    end
  end
end
