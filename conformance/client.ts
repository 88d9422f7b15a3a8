// A small typed client over the types openapi-typescript generates from
// openapi/openapi.json (target/conformance/ts/annexa.d.ts). It is only
// type-checked (tsc --noEmit --strict, see conformance/run.sh): if the spec
// renames a schema, a field, an operation or a status code these calls rely on,
// this file stops compiling.

import type { components, operations, paths } from "../target/conformance/ts/annexa";

type Schemas = components["schemas"];
export type TokenRequest = Schemas["TokenRequest"];
export type TokenResponse = Schemas["TokenResponse"];
export type OAuthError = Schemas["OAuthError"];
export type Problem = Schemas["Problem"];
export type Control = Schemas["Control"];
export type ControlPage = Schemas["ControlPage"];
export type ControlUpdate = Schemas["ControlUpdate"];
export type ReadinessReport = Schemas["ReadinessReport"];
export type Level = Schemas["Level"];
export type Blocker = Schemas["Blocker"];

// Pieces of an operation, read from the generated `operations` map.
type PathParams<Op> = Op extends { parameters: { path: infer P } } ? P : never;
type QueryParams<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type JsonBody<Op> = Op extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
type JsonOk<Op, S extends number> = Op extends {
  responses: { [K in S]: { content: { "application/json": infer R } } };
}
  ? R
  : never;

// Every path the spec knows; a typo in a path literal below is a compile error.
type ApiPath = keyof paths;

/** An error answer: RFC 9457 problem details (or an RFC 6749 error on the token endpoint). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Problem | OAuthError | undefined,
  ) {
    super(body && "title" in body ? `${status} ${body.title}` : `HTTP ${status}`);
  }
}

function fill<P extends ApiPath>(template: P, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export class AnnexaClient {
  constructor(
    private readonly baseUrl: string,
    private accessToken?: string,
  ) {}

  private async send<T>(
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    url: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ data: T; response: Response }> {
    const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
    if (this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.baseUrl + url, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as Problem | OAuthError | undefined;
      throw new ApiError(response.status, body);
    }
    return { data: (await response.json()) as T, response };
  }

  /** POST /api/v1/auth/token (JSON body); keeps the access token for later calls. */
  async token(request: JsonBody<operations["auth_token"]>): Promise<JsonOk<operations["auth_token"], 200>> {
    const { data } = await this.send<JsonOk<operations["auth_token"], 200>>("POST", fill("/api/v1/auth/token", {}), {
      body: request,
    });
    this.accessToken = data.access_token;
    return data;
  }

  /** GET /api/v1/organizations/{org_id}/controls, one page. */
  async listControls(
    path: PathParams<operations["control_list"]>,
    filters: QueryParams<operations["control_list"]> = {},
  ): Promise<ControlPage> {
    const url = fill("/api/v1/organizations/{org_id}/controls", path) + query(filters);
    return (await this.send<JsonOk<operations["control_list"], 200>>("GET", url)).data;
  }

  /** Every control of a framework, following `next_cursor`. */
  async allControls(orgId: string, framework: string): Promise<Control[]> {
    const out: Control[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listControls({ org_id: orgId }, { framework, limit: 500, cursor });
      out.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }

  /** GET a control, then PATCH it with If-Match set to the ETag just read. */
  async updateControl(
    path: PathParams<operations["control_update"]>,
    change: JsonBody<operations["control_update"]>,
  ): Promise<Control> {
    const url = fill("/api/v1/organizations/{org_id}/controls/{control_id}", path);
    const { response } = await this.send<JsonOk<operations["control_get"], 200>>("GET", url);
    const etag = response.headers.get("ETag");
    if (!etag) throw new Error("control has no ETag");
    const { data } = await this.send<JsonOk<operations["control_update"], 200>>("PATCH", url, {
      body: change,
      headers: { "If-Match": etag },
    });
    return data;
  }

  /** GET /api/v1/organizations/{org_id}/readiness/{key}. */
  async readiness(path: PathParams<operations["readiness_get"]>): Promise<ReadinessReport> {
    const url = fill("/api/v1/organizations/{org_id}/readiness/{key}", path);
    return (await this.send<JsonOk<operations["readiness_get"], 200>>("GET", url)).data;
  }
}

/** Exhaustive over the spec's `Level` enum: a new level is a compile error here. */
export function describeLevel(level: Level): string {
  switch (level) {
    case "ready":
      return "ready for the certification audit";
    case "at_risk":
      return "at risk";
    case "not_ready":
      return "not ready";
    default: {
      const unreachable: never = level;
      return unreachable;
    }
  }
}

/** A usage example tying the pieces together (type-checked, not run). */
export async function example(baseUrl: string, orgId: string): Promise<string> {
  const client = new AnnexaClient(baseUrl);
  const grant: TokenRequest = { grant_type: "password", username: "admin@example.com", password: "secret" };
  const token = await client.token(grant);
  const expiresIn: number = token.expires_in;

  const controls = await client.allControls(orgId, "iso27001-2022");
  const first = controls[0];
  if (first) {
    const change: ControlUpdate = { status: "implemented", owner: "ciso@example.com", due_date: null };
    const updated = await client.updateControl({ org_id: orgId, control_id: first.id }, change);
    const version: number = updated.version;
    void version;
  }

  const report = await client.readiness({ org_id: orgId, key: "iso27001-2022" });
  const blockers: Blocker[] = report.blockers;
  return `${report.framework_name}: ${report.score} (${describeLevel(report.level)}), ${blockers.length} blocker(s), token for ${expiresIn}s`;
}
