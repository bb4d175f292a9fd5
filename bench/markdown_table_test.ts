import { equal } from "node:assert/strict";
import { formatValue, markdownTables } from "./markdown_table.ts";

Deno.test("markdownTables() groups rows by table and unions the columns", () => {
  const text = markdownTables([
    { table: "A", path: "direct", values: { "MB/s": 2913.4 } },
    { table: "B", path: "x", values: { "µs": 19.34 }, note: "a|b" },
    {
      table: "A",
      path: "tunnel",
      values: { "MB/s": null, ratio: 0.4712 },
      note: "unavailable: no",
    },
  ]);
  equal(
    text,
    [
      "### A",
      "",
      "| path | MB/s | ratio | note |",
      "| --- | ---: | ---: | --- |",
      "| direct | 2,913 | — |  |",
      "| tunnel | — | 0.47 | unavailable: no |",
      "",
      "### B",
      "",
      "| path | µs | note |",
      "| --- | ---: | --- |",
      "| x | 19.3 | a\\|b |",
      "",
    ].join("\n"),
  );
});

Deno.test("formatValue() keeps about three significant figures", () => {
  equal(formatValue(2874.6), "2,875");
  equal(formatValue(53.24), "53.2");
  equal(formatValue(0.5), "0.50");
  equal(formatValue(Number.NaN), "—");
});
