// Schema validation of Kubernetes objects, offline: every document of the
// given YAML files (or, with --kustomize DIR, of the kustomization in DIR
// resolved by a small built-in resolver: resources, namespace,
// configMapGenerator files, images) is checked against the OpenAPI schema of
// its apiVersion/kind from npm's kubernetes-models. An unknown apiVersion or
// kind, a field of the wrong type, a missing required field: one line each
// on stderr, exit 1. Exit 0 when every object is valid.
//   node validate-k8s.mjs FILE.yaml...
//   node validate-k8s.mjs --kustomize deploy/k8s
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";

function readDocs(file) {
  const out = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push({ source: file, object: value });
  }
  return out;
}

// The subset of kustomize deploy/k8s uses, for machines without kubectl.
function kustomize(dir) {
  const k = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  const docs = [];
  for (const r of k.resources ?? []) docs.push(...readDocs(path.join(dir, r)));
  for (const g of k.configMapGenerator ?? []) {
    const data = {};
    for (const f of g.files ?? []) {
      const [key, file] = f.includes("=") ? f.split("=") : [path.basename(f), f];
      data[key] = readFileSync(path.join(dir, file), "utf8");
    }
    docs.push({ source: `${dir}/kustomization.yaml`, object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data } });
  }
  for (const d of docs) {
    if (k.namespace && d.object.kind !== "Namespace") d.object.metadata = { ...d.object.metadata, namespace: k.namespace };
  }
  return docs;
}

async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  if (!/^[a-z0-9.]*$/.test(group ?? "") || !/^v[0-9a-z]+$/.test(version) || !/^[A-Za-z]+$/.test(kind)) return null;
  try {
    const mod = await import(group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`);
    return mod[kind] ?? null;
  } catch {
    return null;
  }
}

const args = process.argv.slice(2);
let docs = [];
try {
  if (args[0] === "--kustomize") docs = kustomize(args[1]);
  else for (const f of args) docs.push(...readDocs(f));
} catch (e) {
  console.error(`validate-k8s: ${e.message}`);
  process.exit(1);
}
if (docs.length === 0) {
  console.error("validate-k8s: no objects");
  process.exit(1);
}
let bad = 0;
for (const { source, object } of docs) {
  const name = `${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"} (${source})`;
  const Model = await modelFor(object?.apiVersion, object?.kind);
  if (!Model) {
    console.error(`${name}: unknown apiVersion/kind ${object?.apiVersion} ${object?.kind}`);
    ++bad;
    continue;
  }
  try {
    new Model(object).validate();
  } catch (e) {
    console.error(`${name}: ${e.message}`);
    ++bad;
  }
}
console.log(`validate-k8s: ${docs.length - bad} of ${docs.length} objects valid`);
process.exit(bad === 0 ? 0 : 1);
