import { deepStrictEqual, equal, throws } from "node:assert/strict";
import {
  Http1ResponseParser,
  MAX_RESPONSE_BODY_BYTES,
  MAX_RESPONSE_HEAD_BYTES,
} from "./http1_response_parser.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("Http1ResponseParser reads Content-Length, chunked and bodiless responses back to back", () => {
  const parser = new Http1ResponseParser();
  parser.push(bytes(
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
      "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n" +
      "HTTP/1.1 429 Too Many\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
      "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
  ));
  const responses = parser.take();
  deepStrictEqual(responses.map((r) => [r.status, text(r.body), r.closes]), [
    [200, "hello", false],
    [204, "", false],
    [429, "abcde", true],
  ]);
  deepStrictEqual(parser.take(), []);
});

Deno.test("Http1ResponseParser waits for a response split anywhere", () => {
  const whole = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc" +
    "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
  for (let cut = 1; cut < whole.length; cut++) {
    const parser = new Http1ResponseParser();
    parser.push(bytes(whole.slice(0, cut)));
    const early = parser.take();
    parser.push(bytes(whole.slice(cut)));
    const all = [...early, ...parser.take()];
    deepStrictEqual(
      all.map((r) => [r.status, text(r.body)]),
      [[200, "abc"], [404, "x"]],
      `cut ${cut}`,
    );
  }
});

Deno.test("Http1ResponseParser refuses what is malformed or over its bounds", () => {
  throws(() => new Http1ResponseParser().push(bytes("SSH-2.0-x\r\n\r\n")), /status line/);
  throws(() => new Http1ResponseParser().push(bytes("HTTP/1.1 200 OK\r\n\r\n")), /neither/);
  throws(
    () => new Http1ResponseParser().push(bytes("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")),
    /Content-Length/,
  );
  throws(
    () =>
      new Http1ResponseParser().push(
        bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_RESPONSE_BODY_BYTES + 1}\r\n\r\n`),
      ),
    /Content-Length/,
  );
  throws(
    () =>
      new Http1ResponseParser().push(
        bytes(
          `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${
            (MAX_RESPONSE_BODY_BYTES + 1).toString(16)
          }\r\n`,
        ),
      ),
    /exceeds/,
  );
  throws(() => new Http1ResponseParser().push(bytes("HTTP/1.1 200 OK\r\nbad\r\n\r\n")), /header/);
  // A head that never ends is refused once it passes the bound, not buffered forever.
  const parser = new Http1ResponseParser();
  parser.push(bytes("HTTP/1.1 200 OK\r\n"));
  throws(() => parser.push(new Uint8Array(MAX_RESPONSE_HEAD_BYTES).fill(0x61)), /head exceeds/);
  equal(parser.take().length, 0);
});
