// Reads the repository's Dockerfile into stages and instructions, enough for the tests
// to check its flags and to replay its build steps without Docker. Covers what that
// Dockerfile uses: comments, `\` continuations, JSON-array (exec) form.

/** One instruction: its keyword (upper case), raw argument text, and words. */
export interface Instruction {
  keyword: string;
  text: string;
  /** The JSON array for the exec form, else the text split on whitespace. */
  words: string[];
}

/** One `FROM` stage. */
export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages. */
export function parseDockerfile(source: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    // Comments may also sit between the lines of a continued instruction.
    if (line.startsWith("#") || (pending === "" && line === "")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    logical.push(pending + line);
    pending = "";
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const text = rest.join(" ");
    const words = text.startsWith("[") ? JSON.parse(text) as string[] : rest;
    const instruction = { keyword: keyword.toUpperCase(), text, words };
    if (instruction.keyword === "FROM") {
      const [image, as, name] = words;
      stages.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile: ${keyword} before FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The one instruction of `stage` with `keyword`; fails on none or several. */
export function only(stage: Stage, keyword: string): Instruction {
  const found = stage.instructions.filter((i) => i.keyword === keyword);
  if (found.length !== 1) {
    throw new Error(`Dockerfile stage ${stage.image}: ${found.length} ${keyword} instructions`);
  }
  return found[0];
}

/**
 * Whether a context path (relative, `/`-separated) survives `.dockerignore`: the last
 * pattern that matches it decides (`!` keeps); a pattern naming a folder covers what is
 * inside it. Patterns use `*`, `?` and `**`, as Docker's do.
 */
export function dockerignoreFilter(source: string): (path: string) => boolean {
  const rules = source.split("\n").map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const keep = line.startsWith("!");
      const pattern = (keep ? line.slice(1) : line).replace(/^\/+|\/+$/g, "");
      return { keep, regex: new RegExp(`^${globSource(pattern)}(/.*)?$`) };
    });
  return (path) => {
    let kept = true;
    for (const rule of rules) if (rule.regex.test(path)) kept = rule.keep;
    return kept;
  };
}

function globSource(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (pattern.startsWith("**/", i)) {
      out += "(?:.*/)?";
      i += 2;
    } else if (pattern.startsWith("**", i)) {
      out += ".*";
      i += 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}
