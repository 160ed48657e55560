"""The token path: the OAuth 2.0 endpoints on Authlib.

Code map, in the order a request travels:

0. :mod:`.token_wsgi`: ``POST /oauth2/token`` is taken at the WSGI edge, in
   front of Flask's dispatch, and handed straight to the Authlib server below
   (Flask's per-request machinery cost more CPU than the endpoint itself);
   anything Flask must judge, and every error that is not an OAuth error,
   still goes through Flask;
1. :mod:`.endpoints`: the blueprint (``/oauth2/token``, ``/oauth2/introspect``,
   ``/oauth2/revoke``, ``/oauth2/jwks``, RFC 8414 metadata) and
   :func:`~.endpoints.init_app`, which the app factory calls;
2. :mod:`.authorization_server`: Authlib's ``AuthorizationServer``, configured
   for this app (grant, endpoints, token generator, hooks);
3. :mod:`.requests`: the request read as RFC 6749 wants it (form body only,
   each parameter once, exactly one authentication method: Basic, a body
   secret, or a client assertion);
4. :mod:`.client_record`: the token path's one read, the client with its live
   secrets and enabled organizations (a client without secrets too);
5. :mod:`.client_auth`: ``client_secret_basic`` and ``client_secret_post``
   against argon2id hashes, with the verified-credential cache and the
   failure throttle; :mod:`.private_key_jwt`: a JWT signed with the client's
   key (RFC 7523), its keys read only then (or fetched from its ``jwks_uri``
   by :mod:`authserver.jwks_uri`), each ``jti`` used once (:mod:`.replay`), small
   statements on the DB-API cursor (:mod:`.raw_sql`);
6. :mod:`authserver.grants`: the client credentials grant (RFC 6749 §4.4) and
   the scope rules; :mod:`authserver.tokens` signs the RFC 9068 token;
7. :mod:`.introspection` (RFC 7662) and :mod:`.revocation` (RFC 7009): the
   endpoints; their rules are :mod:`authserver.services.tokens`;
8. :mod:`.errors`: every error answer (RFC 6749 §5.2), the one place OAuth
   error JSON is made.

Where this server departs from Authlib 1.9, and why:

* parameters come from the form body only (Authlib also reads the query
  string), and the body must be ``application/x-www-form-urlencoded``
  (RFC 6749 §3.2, §4.4.2): a JSON body is ``invalid_request``;
* a repeated parameter is ``invalid_request`` (§3.2: "Request and response
  parameters MUST NOT be included more than once"); so are a missing
  ``grant_type`` (Authlib says ``unsupported_grant_type``; §5.2 calls a
  request "missing a required parameter" invalid) and two authentication
  methods at once (§2.3: "MUST NOT use more than one");
* Basic credentials are decoded strictly and form-urldecoded (§2.3.1: the
  client id and secret are encoded with ``application/x-www-form-urlencoded``
  before Basic; Authlib uses plain percent-decoding, lenient base64, and fails
  with a 500 on bytes that are not UTF-8);
* ``private_key_jwt`` uses Authlib's ``JWTBearerClientAssertion`` hooks with
  stricter checks (RFC 9700 §2.4): ``aud`` must be exactly the issuer or the
  token endpoint (Authlib accepts any array containing one), ``exp`` at most
  5 minutes ahead, only asymmetric algorithms, no key in the header, one
  ``invalid_client`` answer for every refusal (Authlib's descriptions tell
  which check failed); the signature is verified with PyJWT's algorithm
  objects on keys parsed once per process;
* ``invalid_client`` is always 401 with ``WWW-Authenticate: Basic`` (§5.2
  allows 400 when no ``Authorization`` header was sent; one answer is simpler
  for clients and never tells which method was tried);
* Authlib refuses any request URL that is not https or loopback with an
  exception the endpoint does not catch (a 500 behind a TLS-terminating
  proxy); transport security (§1.6, §3.2) is the deployment's job, and
  production requires an https issuer, so that check is left out;
* error descriptions are fixed ASCII text and never echo the request (§5.2:
  ``error_description`` is US-ASCII, "MUST NOT include characters outside
  the set %x20-21 / %x23-5B / %x5D-7E").
"""
