import { defineCommand } from "citty";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeSecretFile } from "../lib/secret-file.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const init = defineCommand({
  meta: {
    name: "init",
    description: "Make a CA (once per directory) and a certificate for one machine, so the cluster talks HTTPS without OpenSSL recipes",
  },
  args: {
    dir: { type: "string", description: "where the CA and certificates are kept", default: "./cube-tls" },
    name: { type: "string", description: "whose certificate: manager, or a worker's name", default: "manager" },
    hosts: { type: "string", description: "comma-separated host names and IPs the machine is reached by (localhost and 127.0.0.1 are always in)" },
  },
  async run({ args }) {
    if (!NAME.test(args.name)) throw new Error(`--name must be letters, digits, '.', '_' or '-', not "${args.name}"`);
    const { createCertificateAuthority, issueCertificate } = await import("../lib/certificates.ts");
    const dir = resolve(args.dir);
    mkdirSync(dir, { recursive: true });
    const caFile = join(dir, "ca.pem");
    const caKeyFile = join(dir, "ca-key.pem");
    const caExists = existsSync(caFile) && existsSync(caKeyFile);
    const ca = caExists ? { cert: readFileSync(caFile, "utf8"), key: readFileSync(caKeyFile, "utf8") } : await createCertificateAuthority("Cube CA");
    if (!caExists) {
      writeFileSync(caFile, ca.cert);
      writeSecretFile(caKeyFile, ca.key.trim());
    }
    const hosts = [...new Set([...(args.hosts ?? "").split(",").map((h) => h.trim()).filter(Boolean), "localhost", "127.0.0.1"])];
    const issued = await issueCertificate(ca, args.name, hosts);
    const certFile = join(dir, `${args.name}.pem`);
    const keyFile = join(dir, `${args.name}-key.pem`);
    writeFileSync(certFile, issued.cert);
    writeSecretFile(keyFile, issued.key.trim());
    const role = args.name === "manager" ? "--role=manager" : "--role=worker --join=https://MANAGER:7600";
    process.stdout.write(
      [
        `${caExists ? "using the CA in" : "made a new CA:"} ${caFile} (its key ${caKeyFile} stays with whoever issues certificates)`,
        `made ${certFile} and ${keyFile} for ${hosts.join(", ")}`,
        `  cube serve ${role} --tls-cert=${certFile} --tls-key=${keyFile}${args.name === "manager" ? "" : ` --tls-ca=${caFile}`}`,
        ...(args.name === "manager" ? [`  clients: CUBE_ADDR=https://${hosts[0]}:7600 CUBE_TLS_CA=${caFile}`] : []),
        "",
      ].join("\n"),
    );
  },
});

export default defineCommand({
  meta: { name: "tls", description: "Certificates for HTTPS between the CLI, the manager and its workers" },
  subCommands: { init },
});
