/**
 * Turning missing prerequisites into what to run: pure, so the planning is tested for
 * every case (root, passwordless sudo, neither) without installing anything.
 *
 * @module
 */
import type { Prerequisite } from "./prerequisites.ts";

/** What this process may do to the system. */
export type Privilege = "root" | "sudo" | "none";

/** One command to run; `orElse` is tried when it fails. */
export interface InstallStep {
  argv: string[];
  orElse?: string[];
}

/** What to do about the missing prerequisites. */
export type InstallPlan =
  /** Install: one line per prerequisite (what and why), then the steps in order. */
  | { possible: true; lines: string[]; steps: InstallStep[] }
  /** Cannot: the one command a person would run, and what it installs. */
  | { possible: false; lines: string[]; command: string };

const APT_ENV = ["env", "DEBIAN_FRONTEND=noninteractive"];

/**
 * Plans the installation of `missing`: Debian packages in one `apt-get install` after
 * `apt-get update` (as root, or through `sudo -n`), then Python packages with pip
 * (system-wide as root, `--user` otherwise; Debian's pip refuses either without
 * `--break-system-packages`, which older pips do not know: they are retried without),
 * then what the project builds itself (Jaeger). Without root or sudo, Debian packages
 * cannot be installed: the plan is the command.
 *
 * @example
 * ```ts
 * planInstall([kcat], "root");
 * // { possible: true, lines: ["installing kcat (Debian package kcat): ..."],
 * //   steps: [{ argv: ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", ...] }, ...] }
 * ```
 */
export function planInstall(missing: readonly Prerequisite[], privilege: Privilege): InstallPlan {
  const packages: string[] = [];
  const requirements: string[] = [];
  const builds: { argv: string[]; command: string }[] = [];
  const lines: string[] = [];
  for (const prerequisite of missing) {
    const { install } = prerequisite;
    switch (install.kind) {
      case "debian":
        packages.push(...install.packages.filter((p) => !packages.includes(p)));
        lines.push(
          `installing ${prerequisite.name} (Debian package ${install.packages.join(" ")}): ` +
            prerequisite.why,
        );
        break;
      case "pip":
        requirements.push(install.requirement);
        lines.push(
          `installing ${prerequisite.name} (Python package ${install.requirement}): ` +
            prerequisite.why,
        );
        break;
      case "build":
        builds.push({ argv: [...install.argv], command: install.command });
        lines.push(`building ${prerequisite.name} (${install.command}): ${prerequisite.why}`);
        break;
    }
  }
  const sudo = privilege === "sudo" ? ["sudo", "-n"] : [];
  const apt = packages.length === 0 ? [] : [
    { argv: [...sudo, ...APT_ENV, "apt-get", "update", "-qq"] },
    { argv: [...sudo, ...APT_ENV, "apt-get", "install", "-y", "-qq", ...packages] },
  ];
  const pipArgs = ["python3", "-m", "pip", "install", "--quiet"];
  const user = privilege === "root" ? [] : ["--user"];
  const pip = requirements.length === 0 ? [] : [{
    argv: [...pipArgs, ...user, "--break-system-packages", ...requirements],
    orElse: [...pipArgs, ...user, ...requirements],
  }];
  if (privilege === "none" && packages.length > 0) {
    const pipText = pip.length > 0 ? ` && ${pip[0]!.argv.join(" ")}` : "";
    const buildText = builds.map((build) => ` && ${build.command}`).join("");
    return {
      possible: false,
      lines,
      command: `sudo apt-get update && sudo apt-get install -y ${packages.join(" ")}${pipText}` +
        buildText,
    };
  }
  // Builds last: one may need a package installed above (Jaeger needs Go).
  const build = builds.map(({ argv }) => ({ argv }));
  return { possible: true, lines, steps: [...apt, ...pip, ...build] };
}
