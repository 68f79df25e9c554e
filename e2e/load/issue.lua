-- wrk script: POST /credentials/issue with the token in $CERTUS_TOKEN, in the format
-- $CERTUS_LOAD_FORMAT (vc+jwt unless set).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CERTUS_TOKEN")
wrk.body = [[{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/certus/contexts/kyc/v1"],"type":["VerifiableCredential","KycCredential"],"credentialSubject":{"givenName":"Maria","familyName":"Rossi","birthDate":"1988-04-12","assuranceLevel":"substantial","checkDate":"2026-10-01","checkMethod":"video"}},"options":{"format":"]] .. (os.getenv("CERTUS_LOAD_FORMAT") or "vc+jwt") .. [["}}]]

local errors = 0
response = function(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
