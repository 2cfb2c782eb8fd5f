import type { HttpMethod, JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter } from "../../model/openapi.ts";
import { TableScroll } from "../components/table-scroll.tsx";
import type { Page } from "../layout.tsx";
import { type ResolveRef, schemaFields, typeOf } from "../schema-fields.ts";

interface Entry {
  method: HttpMethod;
  path: string;
  op: OpenApiOperation;
}

function resolverOf(document: OpenApiDocument): ResolveRef {
  const prefix = "#/components/schemas/";
  return (ref) => (ref.startsWith(prefix) ? document.components.schemas[ref.slice(prefix.length)] : undefined);
}

/** Operations by group, in the document's order of groups and of paths. */
function byGroup(document: OpenApiDocument): { name: string; description: string; entries: Entry[] }[] {
  const entries = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method as HttpMethod, path, op })));
  return document.tags.map((tag) => ({ ...tag, entries: entries.filter((e) => e.op.tags[0] === tag.name) })).filter((g) => g.entries.length > 0);
}

const anchor = (name: string) => `api-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;

function Roles({ op }: { op: OpenApiOperation }) {
  const roles = op["x-cube-roles"];
  return roles.length === 0 ? <span class="badge role-public">public</span> : <>{roles.map((r) => <span class="badge role">{r}</span>)}</>;
}

function Parameters({ params, resolve }: { params: OpenApiParameter[]; resolve: ResolveRef }) {
  return (
    <TableScroll label="Parameters">
      <thead>
        <tr>
          <th scope="col">Parameter</th>
          <th scope="col">In</th>
          <th scope="col">Type</th>
          <th scope="col">Required</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {params.map((p) => (
          <tr>
            <th scope="row">
              <code>{p.name}</code>
            </th>
            <td>{p.in}</td>
            <td>
              <code>{typeOf(p.schema, resolve)}</code>
            </td>
            <td>{p.required ? "yes" : "no"}</td>
            <td class="message">{p.description}</td>
          </tr>
        ))}
      </tbody>
    </TableScroll>
  );
}

function BodyFields({ schema, resolve }: { schema: JsonSchema; resolve: ResolveRef }) {
  const fields = schemaFields(schema, resolve);
  if (fields.length === 0) return <p class="muted">{typeOf(schema, resolve)}</p>;
  return (
    <TableScroll label="Body fields">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Type</th>
          <th scope="col">Required</th>
          <th scope="col">Notes</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr>
            <th scope="row">
              <code>{f.path}</code>
            </th>
            <td>
              <code>{f.type}</code>
            </td>
            <td>{f.required ? "yes" : "no"}</td>
            <td class="message">{f.notes.join("; ")}</td>
          </tr>
        ))}
      </tbody>
    </TableScroll>
  );
}

function Operation({ entry, resolve }: { entry: Entry; resolve: ResolveRef }) {
  const { method, path, op } = entry;
  const body = op.requestBody;
  const media = body && Object.values(body.content)[0];
  return (
    <details id={`op-${op.operationId}`} class="operation">
      <summary>
        <span class={`badge method method-${method}`}>{method.toUpperCase()}</span> <code class="op-path">{path}</code> <span class="muted">{op.summary}</span>
      </summary>
      <p>{op.description}</p>
      <dl class="facts">
        <dt>Roles</dt>
        <dd>
          <Roles op={op} />
        </dd>
        <dt>Answers</dt>
        <dd>{Object.keys(op.responses).join(", ")}</dd>
        {body ? (
          <>
            <dt>Body</dt>
            <dd>
              {Object.keys(body.content).map((type) => (
                <code class="port">{type}</code>
              ))}
              {body.description ? <span class="muted">{body.description}</span> : null}
            </dd>
          </>
        ) : null}
      </dl>
      {op.parameters.length > 0 ? <Parameters params={op.parameters} resolve={resolve} /> : null}
      {media?.schema.$ref ? <BodyFields schema={media.schema} resolve={resolve} /> : null}
      {media?.example !== undefined ? (
        <details>
          <summary>Example body</summary>
          <pre class="example">{JSON.stringify(media.example, null, 2)}</pre>
        </details>
      ) : null}
    </details>
  );
}

/** The API reference: every operation of the document by group, with its roles, parameters and body fields. */
export function apiPage(document: OpenApiDocument): Page {
  const resolve = resolverOf(document);
  const groups = byGroup(document);
  return {
    title: "API reference",
    section: "api",
    // Nothing here changes with the cluster: the reference is outside the live region.
    live: (
      <>
        <h1>API reference</h1>
        <p>
          {document.info.title} {document.info.version}. {document.info.description} The same as an OpenAPI 3.1 document: <a href="/v1/openapi.json">/v1/openapi.json</a>.
        </p>
      </>
    ),
    after: (
      <>
        <nav aria-label="API groups" class="api-groups">
          {groups.map((g) => (
            <a href={`#${anchor(g.name)}`}>{g.name}</a>
          ))}
        </nav>
        {groups.map((g) => (
          <section id={anchor(g.name)} class="api-group">
            <h2>{g.name}</h2>
            <p class="muted">{g.description}</p>
            {g.entries.map((entry) => (
              <Operation entry={entry} resolve={resolve} />
            ))}
          </section>
        ))}
      </>
    ),
  };
}
