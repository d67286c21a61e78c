/**
 * The few EC2 calls the application side needs (a VPC, two subnets, a security group), made on moto's EC2 Query
 * API directly: the project has no EC2 client, and these are the only EC2 calls anywhere. moto does not verify
 * signatures; the Authorization header only carries the region and service it routes by.
 */

export interface Ec2Options {
  readonly endpoint: string;
  readonly region: string;
}

export interface Network {
  readonly vpcId: string;
  /** Two subnets in two availability zones (an ALB needs two). */
  readonly subnetIds: readonly [string, string];
  readonly securityGroupId: string;
}

export class Ec2QueryError extends Error {
  override readonly name = 'Ec2QueryError';
}

async function call(options: Ec2Options, action: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params });
  const res = await fetch(`${options.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${options.region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Ec2QueryError(`EC2 ${action} answered ${res.status}: ${text.slice(0, 500)}`);
  return text;
}

function field(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
  if (!m) throw new Ec2QueryError(`no <${tag}> in EC2 answer: ${xml.slice(0, 300)}`);
  return m[1]!;
}

/** Creates a VPC with two subnets in the region's first two zones and a security group. */
export async function createNetwork(options: Ec2Options, name: string, cidrIndex: number): Promise<Network> {
  const base = `10.${cidrIndex % 256}`;
  const vpcId = field(await call(options, 'CreateVpc', { CidrBlock: `${base}.0.0/16` }), 'vpcId');
  // Without DNS hostnames, moto's ENIs lack a private DNS name and CreateTaskSet (which starts tasks) answers 500.
  await call(options, 'ModifyVpcAttribute', { VpcId: vpcId, 'EnableDnsHostnames.Value': 'true' });
  const subnet = async (i: number) =>
    field(
      await call(options, 'CreateSubnet', {
        VpcId: vpcId,
        CidrBlock: `${base}.${i}.0/24`,
        AvailabilityZone: `${options.region}${'abc'[i]}`,
      }),
      'subnetId',
    );
  const subnetIds = [await subnet(0), await subnet(1)] as const;
  const securityGroupId = field(
    await call(options, 'CreateSecurityGroup', {
      GroupName: name,
      GroupDescription: `${name} tasks`,
      VpcId: vpcId,
    }),
    'groupId',
  );
  return { vpcId, subnetIds, securityGroupId };
}

/** Lists VPCs (the cheapest EC2 call: it loads moto's EC2 service). */
export async function describeVpcs(options: Ec2Options): Promise<void> {
  await call(options, 'DescribeVpcs', {});
}
