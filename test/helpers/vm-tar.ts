// A tiny ustar writer for building test images (docker save layout) by hand.
import fs from "node:fs";
import { ociArchitecture } from "../../src/model/reference.js";
import { TAR_END, tarFileHeader, tarPadding } from "../../src/vm/tar.js";
export interface TarInput {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink";
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
}

const FLAGS = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;

function header(e: TarInput, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, len, "utf8");
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0"), off, len - 1);
  // Names over 100 bytes would need a prefix or pax header; the tests keep them short.
  if (Buffer.byteLength(e.name) > 100) throw new Error(`name too long for this writer: ${e.name}`);
  put(e.name, 0, 100);
  oct(e.mode ?? (e.type === "dir" ? 0o755 : 0o644), 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(0, 136, 12);
  h.write(FLAGS[e.type ?? "file"], 156, 1);
  put(e.linkname ?? "", 157, 100);
  put("ustar\u000000", 257, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return h;
}

export function tar(entries: TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === "string" ? Buffer.from(e.data) : e.data ?? Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A `docker save` archive: manifest.json plus one layer.tar per layer, bottom first. */
export function dockerSave(layers: Buffer[]): Buffer {
  const names = layers.map((_, i) => `layer${i}/layer.tar`);
  const manifest = [{ Config: "config.json", RepoTags: ["test:latest"], Layers: names }];
  return tar([
    { name: "manifest.json", data: JSON.stringify(manifest) },
    { name: "config.json", data: "{}" },
    ...layers.map((l, i) => ({ name: names[i]!, data: l })),
  ]);
}

/** A docker-save archive whose one layer holds busybox and a file of `size` zero bytes, written a MiB at a time. */
export function bigArchive(file: string, size: number, reference = "example.test/big:1"): void {
  const tools = tar([
    { name: "bin/busybox", data: fs.readFileSync("/bin/busybox"), mode: 0o755 },
    ...["sh", "wc"].map((a) => ({ name: `bin/${a}`, type: "symlink" as const, linkname: "busybox" })),
  ]).subarray(0, -TAR_END.length);
  const layerSize = tools.length + 512 + size + tarPadding(size).length + TAR_END.length;
  const config = Buffer.from(JSON.stringify({ architecture: ociArchitecture(process.arch), os: "linux", config: { Cmd: ["sh"] }, rootfs: { type: "layers", diff_ids: [] } }));
  const manifest = Buffer.from(JSON.stringify([{ Config: "config.json", RepoTags: [reference], Layers: ["layer/layer.tar"] }]));
  const fd = fs.openSync(file, "w");
  const member = (name: string, data: Buffer) => fs.writeSync(fd, Buffer.concat([tarFileHeader(name, data.length), data, tarPadding(data.length)]));
  member("manifest.json", manifest);
  member("config.json", config);
  fs.writeSync(fd, tarFileHeader("layer/layer.tar", layerSize));
  fs.writeSync(fd, tools);
  fs.writeSync(fd, tarFileHeader("big.bin", size));
  const mib = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= mib.length) fs.writeSync(fd, mib, 0, Math.min(mib.length, left));
  fs.writeSync(fd, Buffer.concat([tarPadding(size), TAR_END, tarPadding(layerSize), TAR_END]));
  fs.closeSync(fd);
}
