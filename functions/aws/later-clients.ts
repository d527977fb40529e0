/**
 * The AWS SDK code driftwarden needs only after containment, or only on rare paths, loaded on
 * first use rather than at init:
 *
 * - Auto Scaling and ELBv2: detaching an Auto Scaling member (after it is isolated);
 * - CloudTrail and AWS Config: restarting a stopped trail or recorder (tamper response) and
 *   finding who wrote a driftwarden tag (CloudTrail event history).
 *
 * Why: a Lambda's init loads every module its bundle imports statically. These four clients
 * (with their error classes and endpoint rule sets) are about a fifth of the responder's code;
 * loading them at init would slow every cold start for the sake of a few events. The deployed
 * bundles are ES modules with code splitting (scripts/build.mjs), so `import()` of this module
 * loads a separate chunk; tests and the CLI bundle resolve it like any other module.
 *
 * Callers `await loadLaterClients()` before they touch one of these clients through
 * `AwsClients` (functions/aws/clients.ts builds them from the classes loaded here).
 */
export { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
export { CloudTrailClient, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
export { ConfigServiceClient } from '@aws-sdk/client-config-service';
export { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
