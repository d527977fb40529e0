/**
 * The policy schema. The TypeScript type is derived from this schema (`Policy`), and the
 * JSON Schema that editors use (`policy.schema.json`) is generated from it, so the schema,
 * the code and the editor completion cannot drift apart.
 *
 * Written with `zod/mini`, the functional form of zod: its schemas carry no methods, so
 * esbuild drops the parts of zod that are not used. Classic zod cannot be tree-shaken and
 * cost every Lambda bundle about 90 KiB gzipped before the first event (issue 8).
 * `z._default(s, v)` is classic `s.default(v)`, `z.prefault(s, v)` is `s.prefault(v)`, and
 * checks such as `z.minLength(1)` go in `.check(…)`.
 *
 * Descriptions are written with `.register(z.globalRegistry, { description })`, which is
 * what classic `.describe()` does, and not with `.check(z.describe(…))`: `.check` copies the
 * schema's definition, which turns a default's getter (a fresh copy of the default on every
 * parse) into one array or object that every parsed policy would share, so that changing
 * one policy's `adminPorts` would change the next policy's too.
 */
import * as z from 'zod/mini';

export const MODES = ['off', 'observe', 'contain', 'replace'] as const;
export const modeSchema = z
  .enum(MODES)
  .register(z.globalRegistry, { description: 'off: ignore; observe: alert only; contain: revoke or isolate, then alert; replace: contain, then replace and terminate after the forensic hold.' });
export type Mode = z.infer<typeof modeSchema>;

const ruleSettings = (defaultMode: Mode, description: string) =>
  z
    ._default(z.strictObject({ mode: z._default(modeSchema, defaultMode) }), { mode: defaultMode })
    .register(z.globalRegistry, { description: `${description} Default mode: ${defaultMode}.` });

/** An ARN pattern: `*` matches any run of characters, `?` one character. */
const arnPattern = z.string().check(z.minLength(1), z.regex(/^(arn:|\*)/, 'must be an ARN or an ARN pattern starting with arn: or *'));

/** ISO-8601 duration such as PT24H or P2D, or a number of hours. */
export const durationSchema = z
  .union([
    z.number().check(z.nonnegative()),
    z.string().check(z.regex(/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'must be an ISO-8601 duration such as PT24H or P2D')),
  ])
  .register(z.globalRegistry, { description: 'A number of hours, or an ISO-8601 duration such as PT24H or P2D.' });

/** A whole number (classic `z.number().int()`). */
const integer = () => z.number().check(z.int());

export const policySchema = z.strictObject({
  version: z._default(z.literal(1), 1).register(z.globalRegistry, { description: 'Policy format version. Only 1 exists.' }),
  dryRun: z
    ._default(z.boolean(), false)
    .register(z.globalRegistry, { description: 'Global dry-run switch: when true, driftwarden plans and alerts but sends no mutating call. Default false.' }),
  rules: z
    .prefault(
      z.strictObject({
        'admin-port-open-to-world': ruleSettings('contain', 'An admin port opened to the whole internet.'),
        'security-group-manual-change': ruleSettings('observe', 'Any security-group rule change by an untrusted actor.'),
        'instance-manual-change': ruleSettings('replace', 'An in-place change to an instance by an untrusted actor.'),
        'shell-access': ruleSettings('replace', 'A shell or command run on an instance by an untrusted actor.'),
        'unapproved-ami': ruleSettings('contain', 'An instance launched from an AMI that is not an approved golden image.'),
        'ssh-key-material': ruleSettings('contain', 'A key pair created or imported, or an instance launched with a key.'),
        'driftwarden-tamper': ruleSettings('contain', "Tampering with driftwarden's controls, the trail or Config. contain reverts driftwarden's own tags and restarts a stopped trail or Config recorder (safe and reversible); the rest is for a human."),
      }),
      {},
    )
    .register(z.globalRegistry, { description: 'Mode per rule.' }),
  quarantineTag: z
    ._default(z.string().check(z.minLength(1), z.maxLength(128)), 'driftwarden:quarantined')
    .register(z.globalRegistry, { description: 'Tag driftwarden puts on an instance it contains (value: the finding id). Changes to a resource carrying it never trigger actions, so driftwarden cannot loop on its own quarantine. Default driftwarden:quarantined.' }),
  killSwitchParameter: z
    ._default(z.string().check(z.regex(/^\//, 'must be an SSM parameter name starting with /')), '/driftwarden/kill-switch')
    .register(z.globalRegistry, { description: 'SSM parameter of the kill switch: when its value is on, true, observe or engaged, every mode turns to observe. Default /driftwarden/kill-switch.' }),
  adminPorts: z
    ._default(z.array(integer().check(z.minimum(0), z.maximum(65535))).check(z.minLength(1)), [22, 3389])
    .register(z.globalRegistry, { description: 'Ports that count as admin ports for admin-port-open-to-world. Default [22, 3389].' }),
  trust: z
    .prefault(
      z.strictObject({
        pipelinePrincipals: z
          ._default(z.array(arnPattern), [])
          .register(z.globalRegistry, { description: 'ARN patterns of the deployment pipeline roles. Their changes are trusted, and CloudFormation acting as them is trusted. Default [] (then every CloudFormation-invoked call is trusted, which driftwarden warns about).' }),
        stackServiceRoles: z
          ._default(z.array(arnPattern), [])
          .register(z.globalRegistry, { description: 'ARN patterns of CloudFormation stack service roles; CloudFormation acting as one of these is trusted. Default [].' }),
        driftwardenPrincipals: z
          ._default(z.array(arnPattern), ['arn:aws:iam::*:role/driftwarden-*', 'arn:aws:sts::*:assumed-role/driftwarden-*'])
          .register(z.globalRegistry, { description: "ARN patterns of driftwarden's own roles, so that it never reacts to its own changes. Default: roles named driftwarden-*." }),
        awsServices: z
          ._default(z.boolean(), true)
          .register(z.globalRegistry, { description: 'Trust AWS services acting on their own (userIdentity.type AWSService). Default true.' }),
        serviceLinkedRoles: z
          ._default(z.boolean(), true)
          .register(z.globalRegistry, { description: 'Trust service-linked roles (:role/aws-service-role/). Default true.' }),
      }),
      {},
    )
    .register(z.globalRegistry, { description: 'Who is trusted to change resources.' }),
  approvedAmis: z
    .prefault(
      z.strictObject({
        ids: z
          ._default(z.array(z.string().check(z.regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id (ami-…)'))), [])
          .register(z.globalRegistry, { description: 'Approved AMI ids. Default [].' }),
        owners: z
          ._default(z.array(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))), [])
          .register(z.globalRegistry, { description: 'Accounts whose AMIs are approved. Default [].' }),
        ssmParameterPath: z
          .optional(z.string().check(z.regex(/^\//, 'must be an SSM parameter path starting with /')))
          .register(z.globalRegistry, { description: 'SSM parameter path under which the golden-image pipeline publishes approved AMI ids. Default: none.' }),
        maxAgeDays: z
          .optional(integer().check(z.positive()))
          .register(z.globalRegistry, { description: 'An approved AMI older than this many days is no longer approved. Default: no limit.' }),
      }),
      {},
    )
    .register(z.globalRegistry, { description: 'Golden images. With none of ids, owners or ssmParameterPath set, unapproved-ami reports that it is not configured.' }),
  exemptions: z
    .prefault(
      z.strictObject({
        tag: z
          ._default(z.string().check(z.minLength(1)), 'driftwarden:exempt-until')
          .register(z.globalRegistry, { description: 'Tag whose value is an ISO-8601 time until which the resource is exempt (exclusive; UTC when no zone). Default driftwarden:exempt-until.' }),
        reasonTag: z
          ._default(z.string().check(z.minLength(1)), 'driftwarden:exempt-reason')
          .register(z.globalRegistry, { description: 'Tag that holds the reason for the exemption. Default driftwarden:exempt-reason.' }),
        setters: z
          ._default(z.array(arnPattern), [])
          .register(z.globalRegistry, { description: 'ARN patterns of the principals allowed to set the exemption tag. Pipeline principals may always set it. An exemption set by anyone else is ignored. Default [].' }),
        maxDurationDays: z
          ._default(z.number().check(z.positive()), 7)
          .register(z.globalRegistry, { description: 'An exemption further in the future than this is capped to it. Default 7.' }),
      }),
      {},
    )
    .register(z.globalRegistry, { description: 'Time-boxed break-glass exemptions.' }),
  forensicHold: z.prefault(
    z.strictObject({
      duration: z
        ._default(durationSchema, 'PT24H')
        .register(z.globalRegistry, { description: 'How long a quarantined instance is kept after its replacement is in service. 0 terminates at once. Default PT24H.' }),
      force: z
        ._default(z.boolean(), false)
        .register(z.globalRegistry, { description: 'Whether termination may lift termination protection that someone other than driftwarden set. Default false.' }),
    }),
    {},
  ),
  attemptedViolations: z.prefault(
    z.strictObject({
      report: z
        ._default(z.boolean(), true)
        .register(z.globalRegistry, { description: 'Report failed calls that would have broken a rule, at LOW severity. Default true.' }),
    }),
    {},
  ),
  limits: z.prefault(
    z.strictObject({
      maxDestructiveActions: z
        ._default(integer().check(z.nonnegative()), 10)
        .register(z.globalRegistry, { description: 'Destructive actions (isolate, replace, terminate) allowed per account per window. Past it, driftwarden observes. Default 10.' }),
      windowMinutes: z
        ._default(integer().check(z.positive()), 60)
        .register(z.globalRegistry, { description: 'The window for maxDestructiveActions, in minutes. Default 60.' }),
      maxAlertsPerWindow: z
        ._default(integer().check(z.positive()), 20)
        .register(z.globalRegistry, { description: 'Individual alerts per window before alerts are folded into a periodic summary. Default 20.' }),
      alertWindowMinutes: z
        ._default(integer().check(z.positive()), 5)
        .register(z.globalRegistry, { description: 'The window for maxAlertsPerWindow, in minutes. Default 5.' }),
    }),
    {},
  ),
});

/** The policy as written (defaults not yet applied). */
export type PolicyInput = z.input<typeof policySchema>;
/** The policy with every default applied. */
export type Policy = z.output<typeof policySchema>;

/** The default policy: every default applied to an empty document. */
export const defaultPolicy = (): Policy => policySchema.parse({});
