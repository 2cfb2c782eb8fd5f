/** One change in the cluster, as subscribers (the events stream, the UI) see it. */
export interface ClusterEvent {
  at: number;
  type: "job" | "task" | "node";
  job?: string;
  task?: string;
  node?: string;
  /** For task events: the state the task is in after the change. */
  state?: string;
  message: string;
}

type Listener = (event: ClusterEvent) => void;

/** In-process fan-out of cluster events; a slow or throwing listener never blocks the writer. */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  publish(event: ClusterEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the state change already happened.
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
