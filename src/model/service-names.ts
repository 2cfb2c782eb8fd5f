/** The DNS zone the nodes' DNS servers answer for services: `NAME.service.cube`. */
export const SERVICE_ZONE = "service.cube";

/**
 * The search domain of a job's containers. A service the job publishes as `JOB-NAME` also answers to
 * `NAME.JOB.service.cube`, so in the job's own containers the bare `NAME` finds it (a Compose file's
 * services reach each other by their service names), while service names stay unique across the cluster.
 * @example jobSearchDomain("shop") // "shop.service.cube"
 */
export function jobSearchDomain(job: string): string {
  return `${job}.${SERVICE_ZONE}`;
}

/**
 * The service a job publishes for one of its own names (see jobSearchDomain).
 * @example jobServiceName("shop", "db") // "shop-db"
 */
export function jobServiceName(job: string, name: string): string {
  return `${job}-${name}`;
}
