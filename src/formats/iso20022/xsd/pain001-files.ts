/**
 * The file names under which the official pain.001 XSDs are looked up in the XSD folder
 * (KONTOR_XSD_DIR): the name the shared fixtures use first, then the plain ISO name.
 */
export const pain001XsdFileNames = {
  'pain.001.001.09': ['sepaxml__pain.001.001.09.xsd', 'pain.001.001.09.xsd'],
  'pain.001.001.03': ['oca-bp__pain.001.001.03.xsd', 'pain.001.001.03.xsd'],
} as const satisfies Record<string, readonly string[]>;

export type Pain001XsdVersion = keyof typeof pain001XsdFileNames;
