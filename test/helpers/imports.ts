// The TypeScript program of the checkout and every module specifier a file names, for the tests
// that check who may import what (journal-boundary, layering).
import { join, relative } from "node:path";
import ts from "typescript";

export const repo = join(import.meta.dirname, "..", "..");

export function program(): ts.Program {
  const configPath = join(repo, "tsconfig.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  })!;
  return ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
}

export const sourceFiles = (p: ts.Program) => p.getSourceFiles().filter((f) => !f.isDeclarationFile && !f.fileName.includes("node_modules"));
export const where = (f: ts.SourceFile, node: ts.Node) => `${relative(repo, f.fileName)}:${f.getLineAndCharacterOfPosition(node.getStart(f)).line + 1}`;

/** How a file reaches a module: each kind is counted, so a scan that misses one is seen to. */
export type EdgeKind = "static" | "type-only" | "re-export" | "dynamic" | "require" | "import-type";

/** Every module specifier a file names: imports, re-exports, `import()`, `require()` and `import("x").T` types. */
export function specifiers(file: ts.SourceFile): { spec: string; node: ts.Node; kind: EdgeKind }[] {
  const found: { spec: string; node: ts.Node; kind: EdgeKind }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, node, kind: node.importClause?.isTypeOnly ? "type-only" : "static" });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, node, kind: "re-export" });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push({ spec: node.moduleReference.expression.text, node, kind: "require" });
    } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) found.push({ spec: node.arguments[0].text, node, kind: "dynamic" });
      else if (ts.isIdentifier(node.expression) && node.expression.text === "require") found.push({ spec: node.arguments[0].text, node, kind: "require" });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, node, kind: "import-type" });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}
