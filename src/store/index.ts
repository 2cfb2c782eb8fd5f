export { openStore, SqliteStore, type Store } from "./store.ts";
export { AmbiguousIdError, type TaskFilter } from "./tasks-repo.ts";
