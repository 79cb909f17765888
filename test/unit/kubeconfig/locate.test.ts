import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { expandPath, locateKubeconfigs } from '../../../src/core/kubeconfig';

const home = '/home/dev';

test('the setting wins over KUBECONFIG and the Kubernetes extension, with ~ and ${workspaceFolder} expanded', () => {
  assert.deepEqual(locateKubeconfigs({ setting: '~/clusters/config', kubeconfigEnv: '/a:/b', vsKubernetesSetting: '/c', homeDir: home }), {
    paths: ['/home/dev/clusters/config'],
    source: 'setting',
  });
  assert.deepEqual(locateKubeconfigs({ setting: '${workspaceFolder}/.kube/config', homeDir: home, workspaceFolder: '/ws' }).paths, ['/ws/.kube/config']);
});

test('KUBECONFIG is a ":"-separated list; empty entries and repeats are dropped, order kept', () => {
  assert.deepEqual(locateKubeconfigs({ setting: '  ', kubeconfigEnv: '/a/config::/b/config:/a/config', homeDir: home }), {
    paths: ['/a/config', '/b/config'],
    source: 'KUBECONFIG',
  });
});

test('the Kubernetes extension setting comes after KUBECONFIG, then ~/.kube/config', () => {
  assert.deepEqual(locateKubeconfigs({ kubeconfigEnv: '', vsKubernetesSetting: '${userHome}/k8s/config', homeDir: home }), {
    paths: ['/home/dev/k8s/config'],
    source: 'vs-kubernetes',
  });
  assert.deepEqual(locateKubeconfigs({ homeDir: home }), { paths: [join(home, '.kube', 'config')], source: 'default' });
});

test('expandPath handles ~ alone, ${userHome}, relative paths inside the workspace, and leaves unknown variables', () => {
  assert.equal(expandPath('~', { homeDir: home }), home);
  assert.equal(expandPath('${userHome}/x', { homeDir: home }), '/home/dev/x');
  assert.equal(expandPath('kube/config', { homeDir: home, workspaceFolder: '/ws' }), '/ws/kube/config');
  assert.equal(expandPath('${workspaceFolder}/config', { homeDir: home }), '${workspaceFolder}/config');
  assert.equal(expandPath('/abs/~/config', { homeDir: home }), '/abs/~/config');
});
