-- wrk script: POST /credentials/verify of the request body in the file $CERTUS_VERIFY_BODY,
-- with the token in $CERTUS_TOKEN. Run from the repository's root.
local file = assert(io.open(os.getenv("CERTUS_VERIFY_BODY"), "r"))
local body = file:read("*a")
file:close()
dofile("e2e/load/post.lua")(body, 200)
