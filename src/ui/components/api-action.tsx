import type { Child } from "hono/jsx";

/**
 * Buttons and forms that the browser script (assets/dashboard.js) turns into `/v1` API calls, so the
 * pages stay plain server-rendered HTML. `done` is what the page says once the call succeeded; the
 * API's own error message is shown when it fails. Ids are stable so focus survives a live refresh.
 */
export interface ApiActionProps {
  id: string;
  method: "POST" | "DELETE";
  url: string;
  done: string;
  children: Child;
}

export function ApiButton({ id, method, url, done, body, confirm, danger = false, children }: ApiActionProps & { body?: unknown; confirm?: string; danger?: boolean }) {
  return (
    <button
      type="button"
      id={id}
      class={danger ? "danger" : undefined}
      data-api={`${method} ${url}`}
      data-body={body === undefined ? undefined : JSON.stringify(body)}
      data-confirm={confirm}
      data-done={done}
    >
      {children}
    </button>
  );
}

/** A form whose fields become the JSON body; number inputs are sent as numbers. */
export function ApiForm({ id, method, url, done, children }: ApiActionProps) {
  return (
    <form id={id} class="inline-form" data-api={`${method} ${url}`} data-done={done}>
      {children}
    </form>
  );
}
