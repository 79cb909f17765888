// Where the in-host probe writes what it read; shared by both sides without importing `vscode` outside.
export const activationResultVariable = 'AKS_SIGNIN_ACTIVATION_RESULT';
