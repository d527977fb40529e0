/**
 * The policy schema. The TypeScript type is derived from this schema (`Policy`), and the
 * JSON Schema that editors use (`policy.schema.json`) is generated from it, so the schema,
 * the code and the editor completion cannot drift apart.
 */
import { z } from 'zod';

export const MODES = ['off', 'observe', 'contain', 'replace'] as const;
export const modeSchema = z
  .enum(MODES)
  .describe('off: ignore; observe: alert only; contain: revoke or isolate, then alert; replace: contain, then replace and terminate after the forensic hold.');
export type Mode = z.infer<typeof modeSchema>;

const ruleSettings = (defaultMode: Mode, description: string) =>
  z
    .object({ mode: modeSchema.default(defaultMode) })
    .strict()
    .default({ mode: defaultMode })
    .describe(`${description} Default mode: ${defaultMode}.`);

/** An ARN pattern: `*` matches any run of characters, `?` one character. */
const arnPattern = z.string().min(1).regex(/^(arn:|\*)/, 'must be an ARN or an ARN pattern starting with arn: or *');

/** ISO-8601 duration such as PT24H or P2D, or a number of hours. */
export const durationSchema = z
  .union([
    z.number().nonnegative(),
    z.string().regex(/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'must be an ISO-8601 duration such as PT24H or P2D'),
  ])
  .describe('A number of hours, or an ISO-8601 duration such as PT24H or P2D.');

export const policySchema = z
  .object({
    version: z.literal(1).default(1).describe('Policy format version. Only 1 exists.'),
    dryRun: z
      .boolean()
      .default(false)
      .describe('Global dry-run switch: when true, driftwarden plans and alerts but sends no mutating call. Default false.'),
    rules: z
      .object({
        'admin-port-open-to-world': ruleSettings('contain', 'An admin port opened to the whole internet.'),
        'security-group-manual-change': ruleSettings('observe', 'Any security-group rule change by an untrusted actor.'),
        'instance-manual-change': ruleSettings('replace', 'An in-place change to an instance by an untrusted actor.'),
        'shell-access': ruleSettings('replace', 'A shell or command run on an instance by an untrusted actor.'),
        'unapproved-ami': ruleSettings('contain', 'An instance launched from an AMI that is not an approved golden image.'),
        'ssh-key-material': ruleSettings('contain', 'A key pair created or imported, or an instance launched with a key.'),
        'driftwarden-tamper': ruleSettings('contain', "Tampering with driftwarden's controls, the trail or Config. contain reverts driftwarden's own tags and restarts a stopped trail or Config recorder (safe and reversible); the rest is for a human."),
      })
      .strict()
      .prefault({})
      .describe('Mode per rule.'),
    quarantineTag: z
      .string()
      .min(1)
      .max(128)
      .default('driftwarden:quarantined')
      .describe('Tag driftwarden puts on an instance it contains (value: the finding id). Changes to a resource carrying it never trigger actions, so driftwarden cannot loop on its own quarantine. Default driftwarden:quarantined.'),
    killSwitchParameter: z
      .string()
      .regex(/^\//, 'must be an SSM parameter name starting with /')
      .default('/driftwarden/kill-switch')
      .describe('SSM parameter of the kill switch: when its value is on, true, observe or engaged, every mode turns to observe. Default /driftwarden/kill-switch.'),
    adminPorts: z
      .array(z.number().int().min(0).max(65535))
      .min(1)
      .default([22, 3389])
      .describe('Ports that count as admin ports for admin-port-open-to-world. Default [22, 3389].'),
    trust: z
      .object({
        pipelinePrincipals: z
          .array(arnPattern)
          .default([])
          .describe('ARN patterns of the deployment pipeline roles. Their changes are trusted, and CloudFormation acting as them is trusted. Default [] (then every CloudFormation-invoked call is trusted, which driftwarden warns about).'),
        stackServiceRoles: z
          .array(arnPattern)
          .default([])
          .describe('ARN patterns of CloudFormation stack service roles; CloudFormation acting as one of these is trusted. Default [].'),
        driftwardenPrincipals: z
          .array(arnPattern)
          .default(['arn:aws:iam::*:role/driftwarden-*', 'arn:aws:sts::*:assumed-role/driftwarden-*'])
          .describe("ARN patterns of driftwarden's own roles, so that it never reacts to its own changes. Default: roles named driftwarden-*."),
        awsServices: z
          .boolean()
          .default(true)
          .describe('Trust AWS services acting on their own (userIdentity.type AWSService). Default true.'),
        serviceLinkedRoles: z
          .boolean()
          .default(true)
          .describe('Trust service-linked roles (:role/aws-service-role/). Default true.'),
      })
      .strict()
      .prefault({})
      .describe('Who is trusted to change resources.'),
    approvedAmis: z
      .object({
        ids: z.array(z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id (ami-…)')).default([]).describe('Approved AMI ids. Default [].'),
        owners: z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id')).default([]).describe('Accounts whose AMIs are approved. Default [].'),
        ssmParameterPath: z
          .string()
          .regex(/^\//, 'must be an SSM parameter path starting with /')
          .optional()
          .describe('SSM parameter path under which the golden-image pipeline publishes approved AMI ids. Default: none.'),
        maxAgeDays: z.number().int().positive().optional().describe('An approved AMI older than this many days is no longer approved. Default: no limit.'),
      })
      .strict()
      .prefault({})
      .describe('Golden images. With none of ids, owners or ssmParameterPath set, unapproved-ami reports that it is not configured.'),
    exemptions: z
      .object({
        tag: z.string().min(1).default('driftwarden:exempt-until').describe('Tag whose value is an ISO-8601 time until which the resource is exempt (exclusive; UTC when no zone). Default driftwarden:exempt-until.'),
        reasonTag: z.string().min(1).default('driftwarden:exempt-reason').describe('Tag that holds the reason for the exemption. Default driftwarden:exempt-reason.'),
        setters: z
          .array(arnPattern)
          .default([])
          .describe('ARN patterns of the principals allowed to set the exemption tag. Pipeline principals may always set it. An exemption set by anyone else is ignored. Default [].'),
        maxDurationDays: z.number().positive().default(7).describe('An exemption further in the future than this is capped to it. Default 7.'),
      })
      .strict()
      .prefault({})
      .describe('Time-boxed break-glass exemptions.'),
    forensicHold: z
      .object({
        duration: durationSchema.default('PT24H').describe('How long a quarantined instance is kept after its replacement is in service. 0 terminates at once. Default PT24H.'),
        force: z
          .boolean()
          .default(false)
          .describe('Whether termination may lift termination protection that someone other than driftwarden set. Default false.'),
      })
      .strict()
      .prefault({}),
    attemptedViolations: z
      .object({
        report: z.boolean().default(true).describe('Report failed calls that would have broken a rule, at LOW severity. Default true.'),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxDestructiveActions: z.number().int().nonnegative().default(10).describe('Destructive actions (isolate, replace, terminate) allowed per account per window. Past it, driftwarden observes. Default 10.'),
        windowMinutes: z.number().int().positive().default(60).describe('The window for maxDestructiveActions, in minutes. Default 60.'),
        maxAlertsPerWindow: z.number().int().positive().default(20).describe('Individual alerts per window before alerts are folded into a periodic summary. Default 20.'),
        alertWindowMinutes: z.number().int().positive().default(5).describe('The window for maxAlertsPerWindow, in minutes. Default 5.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The policy as written (defaults not yet applied). */
export type PolicyInput = z.input<typeof policySchema>;
/** The policy with every default applied. */
export type Policy = z.output<typeof policySchema>;

/** The default policy: every default applied to an empty document. */
export const defaultPolicy = (): Policy => policySchema.parse({});
