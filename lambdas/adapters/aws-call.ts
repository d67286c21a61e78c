import { classifyAwsError } from '../domain/errors';

/** Runs one AWS call, turning throttling and 5xx faults into TransientAwsError, which the state machines retry. */
export async function awsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyAwsError(err);
  }
}
