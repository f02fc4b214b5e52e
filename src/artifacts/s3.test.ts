import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { artifactStoreContract } from './store.case.test.ts';
import { startS3, S3_TEST_BUCKET, S3_TEST_CREDENTIALS } from './testing/s3.ts';
import { S3ArtifactStore, parseS3Url } from './s3.ts';

artifactStoreContract('s3 (s3rver on loopback)', async () => {
  const s3 = await startS3();
  // the smallest parts S3 takes, one in flight: the large case's object is eight parts, and holding it whole would show
  const store = new S3ArtifactStore(s3.url('contract'), { credentials: S3_TEST_CREDENTIALS, partBytes: 5 * 1024 * 1024, partsInFlight: 1 });
  const raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_TEST_CREDENTIALS });
  return {
    store,
    async corrupt(key) {
      // rewrite the object with one byte flipped and its recorded checksum kept
      const Key = `contract/${key}`;
      const o = await raw.send(new GetObjectCommand({ Bucket: S3_TEST_BUCKET, Key }));
      const b = Buffer.from(await o.Body!.transformToByteArray());
      b[0] ^= 0xff;
      await raw.send(new PutObjectCommand({ Bucket: S3_TEST_BUCKET, Key, Body: b, Metadata: o.Metadata }));
    },
    async close() {
      raw.destroy();
      await store.close();
      await s3.stop();
    },
  };
});

test('an s3:// URL names the bucket, the prefix and the endpoint; env fills what it leaves out; credentials never ride in it', () => {
  const p = parseS3Url('s3://bkt/deep/cut?endpoint=http://127.0.0.1:9000&region=eu-west-1', {});
  assert.equal(p.bucket, 'bkt');
  assert.equal(p.prefix, 'deep/cut/');
  assert.equal(p.config.endpoint, 'http://127.0.0.1:9000');
  assert.equal(p.config.region, 'eu-west-1');
  assert.equal(p.config.forcePathStyle, true, 'path style with a custom endpoint');
  const e = parseS3Url('s3://bkt', { AWS_ENDPOINT_URL_S3: 'http://minio:9000', AWS_REGION: 'ap-south-1' });
  assert.deepEqual([e.prefix, e.config.endpoint, e.config.region], ['', 'http://minio:9000', 'ap-south-1']);
  assert.equal(parseS3Url('s3://bkt/x', {}).config.forcePathStyle, false, 'virtual hosts on AWS itself');
  assert.throws(() => parseS3Url('s3://key:secret@bkt/x', {}), /credentials do not belong in the URL/);
  assert.throws(() => parseS3Url('s3://bkt/x?acl=public', {}), /unknown parameter acl/);
});
