// Copies the pinned front-end libraries from node_modules into the package, so the wheel
// serves them itself (no CDN, works offline). Run after `npm ci`; commit what it writes.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src/agentvault_registry/webui/static/vendor");
// axe-core only checks accessibility in the browser tests; users never download it.
const testVendor = join(root, "tests/webui/vendor");

const files = [
  ["bootstrap", "dist/css/bootstrap.min.css", vendor, "bootstrap/bootstrap.min.css"],
  ["bootstrap", "dist/js/bootstrap.bundle.min.js", vendor, "bootstrap/bootstrap.bundle.min.js"],
  ["bootstrap", "LICENSE", vendor, "bootstrap/LICENSE"],
  ["bootstrap-icons", "font/bootstrap-icons.min.css", vendor, "bootstrap-icons/bootstrap-icons.min.css"],
  ["bootstrap-icons", "font/fonts/bootstrap-icons.woff2", vendor, "bootstrap-icons/fonts/bootstrap-icons.woff2"],
  ["bootstrap-icons", "font/fonts/bootstrap-icons.woff", vendor, "bootstrap-icons/fonts/bootstrap-icons.woff"],
  ["bootstrap-icons", "LICENSE", vendor, "bootstrap-icons/LICENSE"],
  ["chart.js", "dist/chart.umd.min.js", vendor, "chart.js/chart.umd.min.js"],
  ["chart.js", "LICENSE.md", vendor, "chart.js/LICENSE.md"],
  ["axe-core", "axe.min.js", testVendor, "axe-core/axe.min.js"],
  ["axe-core", "LICENSE", testVendor, "axe-core/LICENSE"],
];

const versions = {};
for (const [pkg, source, targetRoot, target] of files) {
  const packageDir = join(root, "node_modules", pkg);
  const destination = join(targetRoot, target);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(packageDir, source), destination);
  versions[pkg] = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
}
// The test suite compares this with package.json, so a stale copy fails CI.
writeFileSync(join(root, "src/agentvault_registry/webui/static/vendor/VERSIONS.json"),
  JSON.stringify(versions, null, 2) + "\n");
console.log(versions);
