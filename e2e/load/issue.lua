-- wrk script: POST /credentials/issue with the token in $CERTUS_TOKEN, in the format
-- $CERTUS_LOAD_FORMAT (vc+jwt unless set). Run from the repository's root.
dofile("e2e/load/post.lua")(
  [[{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/certus/contexts/kyc/v1"],"type":["VerifiableCredential","KycCredential"],"credentialSubject":{"givenName":"Maria","familyName":"Rossi","birthDate":"1988-04-12","assuranceLevel":"substantial","checkDate":"2026-10-01","checkMethod":"video"}},"options":{"format":"]]
    .. (os.getenv("CERTUS_LOAD_FORMAT") or "vc+jwt") .. [["}}]],
  201
)
