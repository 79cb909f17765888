// Inputs the differential fuzz once failed on, shrunk, kept so they are checked on every run. Each was a
// real defect; `why` says what went wrong before it was fixed.
export type FuzzOperation =
  | { kind: 'credentials'; user: string; format: 'token' | 'legacy'; then?: 'token' | 'legacy' }
  | { kind: 'context'; name: string }
  | { kind: 'merge'; cluster: string; resolution: 'replace' | 'keepBoth' };

export interface Regression {
  why: string;
  /** Seed of the credentials' random parts. */
  seed?: number;
  operation: FuzzOperation;
  text: string;
}

export const REGRESSIONS: Regression[] = [
  {
    why: "a comment after the last key of a user body came inside yaml's range of our extensions list on sign-out, so the restored skeleton swallowed the entry's next key",
    seed: 287192602,
    operation: {kind: "credentials", user: "clusterUser_rg-test_aks-0", format: "legacy"},
    text: "users:\n- name: clusterUser_rg-test_aks-0\n  user:\n    exec:\n      args:\n      - get-token\n      - \"--server-id\"\n      - devicecode\n      command: kubelogin\n    # caf\u00e9: \u2615 \"quoted\" and: colons\n  bogus: \"1\"\n",
  },
  {
    why: "the same, with the entry's name after the user body: sign-out would have dropped the name",
    seed: 240281571,
    operation: {kind: "credentials", user: "clusterUser_rg-test_aks-1", format: "token"},
    text: "users:\n- user:\n    auth-provider:\n      config:\n        apiserver-id: \"6dae42f8-4368-4678-94ff-3960e28e3630\"\n      name: azure\n    #\n  name: clusterUser_rg-test_aks-1\n",
  },
  {
    why: "a comment after the body at the end of the file: sign-out did not give back the original bytes",
    seed: 247889120,
    operation: {kind: "credentials", user: "clusterUser_rg-test_aks-1", format: "token", then: "token"},
    text: "users:\n- name: clusterUser_rg-test_aks-1\n  user:\n    exec:\n      args: [get-token, \"--login=devicecode\", \"--server-id=6dae42f8-4368-4678-94ff-3960e28e3630\", \"--tenant-id=contoso.onmicrosoft.com\"]\n      command: kubelogin\n    # - looks like an item\n",
  },
  {
    why: "the same after a legacy write whose config was a flow mapping",
    seed: 1510409172,
    operation: {kind: "credentials", user: "clusterUser_rg-test_aks-0", format: "legacy", then: "token"},
    text: "users:\n- name: clusterUser_rg-test_aks-0\n  user:\n    auth-provider:\n      config: {apiserver-id: \"6dae42f8-4368-4678-94ff-3960e28e3630\", client-id: \"80faf920-1908-4b52-b5ef-a8e7bedfc67a\", environment: AzurePublicCloud, tenant-id: contoso.onmicrosoft.com}\n      name: azure\n    # - looks like an item\n",
  },
  {
    why: "a comment after the last key made yaml's source tokens list one more item than the mapping has pairs, and the entry was refused as not editable",
    seed: 1,
    operation: {kind: "credentials", user: "clusterUser_rg-test_aks-0", format: "legacy"},
    text: "users:\n- user:\n    folded: >\n      a long\n      text\n    exec:\n      args:\n      - get-token\n      - \"--server-id\"\n      - \"6dae42f8-4368-4678-94ff-3960e28e3630\"\n      command: kubelogin\n    # caf\u00e9\n  name: clusterUser_rg-test_aks-0\n- name: b\n  user:\n    token: x\n",
  },
  {
    why: 'current-context added after the last key of a mapping the scan could not vouch for ran into an explicit key and made the file invalid',
    seed: 1271118312,
    operation: { kind: 'context', name: 'odd: name' },
    text: 'preferences: {}\n? users:\n- name: clusterUser_rg-test_aks-0\n',
  },
  {
    why: 'a merge into a file with "users:" twice appended to the first list, which kubectl ignores; now refused by name',
    operation: { kind: 'merge', cluster: 'from-azure', resolution: 'replace' },
    text: 'users:\nusers:\n',
  },
  {
    why: 'replacing a cluster that holds an anchor another cluster merges in (<<: *base) would have left the alias pointing at nothing; now refused by name',
    operation: { kind: 'merge', cluster: 'aks-0', resolution: 'replace' },
    text: 'clusters:\n- cluster: &base\n    server: https://10.0.0.1:443\n  name: aks-0\n- cluster:\n    <<: *base\n',
  },
];
