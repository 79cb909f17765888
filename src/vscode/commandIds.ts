// The contributed commands, in a file of their own so activation can register them without loading
// what runs them.
export const commandIds = [
  'aksSignIn.signIn',
  'aksSignIn.signOut',
  'aksSignIn.refresh',
  'aksSignIn.selectKubeconfig',
  'aksSignIn.openKubeconfig',
  'aksSignIn.useContext',
  'aksSignIn.showLog',
  'aksSignIn.copyServerUrl',
  'aksSignIn.statusMenu',
  'aksSignIn.copyCodeAndOpen',
  'aksSignIn.useTokenForm',
  'aksSignIn.signInToAzure',
  'aksSignIn.addClusterFromAzure',
  'aksSignIn.getCredentials',
  'aksSignIn.signOutOfAzure',
] as const;

export type CommandId = (typeof commandIds)[number];
