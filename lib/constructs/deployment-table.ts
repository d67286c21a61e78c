import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_KEYS } from '../../lambdas/adapters/table-schema';

export interface DeploymentTableProps {
  /**
   * Keep the table when the stack is deleted and refuse deletion of the table itself.
   * @default false
   */
  readonly protect?: boolean;
}

/** The one table of deployments, rollbacks, service state and locks, registrations and handled events. */
export class DeploymentTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DeploymentTableProps = {}) {
    super(scope, id);
    const str = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: str(TABLE_KEYS.partitionKey),
      sortKey: str(TABLE_KEYS.sortKey),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      deletionProtection: props.protect ?? false,
      removalPolicy: props.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      globalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
        indexName: i.indexName,
        partitionKey: str(i.partitionKey),
        sortKey: str(i.sortKey),
      })),
    });
  }
}
