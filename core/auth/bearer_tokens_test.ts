import assert from "node:assert/strict";
import { BearerTokenSet } from "./bearer_tokens.ts";

const request = (init: { header?: string; query?: string } = {}) =>
  new Request(`http://relay.test/relay${init.query ?? ""}`, {
    headers: init.header ? { authorization: init.header } : {},
  });

Deno.test("BearerTokenSet takes a token from Authorization: Bearer or ?token=", () => {
  const tokens = new BearerTokenSet(["s3cret", "other"]);
  assert.equal(tokens.required, true);
  assert.equal(tokens.presentedBy(request({ header: "Bearer s3cret" })), true);
  assert.equal(tokens.presentedBy(request({ header: "bearer other" })), true);
  assert.equal(tokens.presentedBy(request({ query: "?token=s3cret" })), true);
});

Deno.test("BearerTokenSet refuses a wrong, partial, longer or missing token", () => {
  const tokens = new BearerTokenSet(["s3cret"]);
  for (
    const bad of [
      request(),
      request({ header: "Bearer s3cre" }),
      request({ header: "Bearer s3cret1" }),
      request({ header: "Basic s3cret" }),
      request({ header: "Bearer " }),
      request({ query: "?token=" }),
      request({ query: "?token=S3CRET" }),
    ]
  ) {
    assert.equal(tokens.presentedBy(bad), false, bad.url + " " + bad.headers.get("authorization"));
  }
});

Deno.test("an empty BearerTokenSet requires nothing", () => {
  assert.equal(new BearerTokenSet().required, false);
  assert.equal(new BearerTokenSet([]).presentedBy(request({ header: "Bearer x" })), false);
});
