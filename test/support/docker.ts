import Docker from "dockerode";

/** The engine the workers use too: DOCKER_HOST when it is a unix:// address, else /var/run/docker.sock. */
const socketPath = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice("unix://".length) : "/var/run/docker.sock";
export const docker = new Docker({ socketPath });
export const TEST_IMAGE = "cube-test/busybox:latest";

/**
 * Integration tests need the real engine and the local test image; without them they fail loudly
 * (never skip), naming the script that provides them.
 */
export async function requireDocker(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`integration tests need a Docker engine at ${socketPath} (run scripts/docker-engine.sh): ${(err as Error).message}`);
  }
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch {
    throw new Error(`integration tests need the image ${TEST_IMAGE} (run scripts/test-image.sh)`);
  }
}

/** Containers carrying label key=value, running or not. */
export function containersWithLabel(key: string, value: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] } });
}

/** Force-removes every container carrying label key=value. */
export async function removeContainersWithLabel(key: string, value: string): Promise<void> {
  for (const c of await containersWithLabel(key, value)) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}

