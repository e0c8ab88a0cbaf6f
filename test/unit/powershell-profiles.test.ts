import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/**
 * The PowerShell profiles' scripts, read as text since PowerShell cannot run here: SQL goes through
 * parameters, certificates are checked unless an operator opts out, the SQL login has least privilege,
 * and the state the scripts keep lives where only the worker's account can write.
 */
const examples = path.resolve(__dirname, '../../examples');
const readme = fs.readFileSync(path.resolve(__dirname, '../../docs/real-environments.md'), 'utf8');
const PROFILES = ['d365-onebox', 'd365-onprem'];

interface Script {
  file: string;
  /** The script without its comments; string literals as written. */
  uncommented: string;
  /** The same with each string literal replaced by STRING: the code that runs. */
  code: string;
  strings: { text: string; verbatim: boolean }[];
}

/**
 * Splits PowerShell source into code and string literals: comments (`#`, `<# #>`), here-strings
 * (`@' '@` verbatim, `@" "@` expandable) and quoted strings (`'...'` verbatim with '' escapes,
 * `"..."` expandable with backtick and "" escapes). Enough for these scripts, not a full parser.
 */
function read(file: string): Script {
  const src = fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  const script: Script = { file: path.basename(file), uncommented: '', code: '', strings: [] };
  const until = (end: string, from: number) => {
    const at = src.indexOf(end, from);
    return at < 0 ? src.length : at;
  };
  const literal = (from: number, to: number, text: string, verbatim: boolean) => {
    script.strings.push({ text, verbatim });
    script.uncommented += src.slice(from, to);
    script.code += 'STRING';
    return to;
  };
  let i = 0;
  while (i < src.length) {
    const two = src.slice(i, i + 2);
    if (two === '<#') i = until('#>', i) + 2;
    else if (src[i] === '#') i = until('\n', i);
    else if ((two === "@'" || two === '@"') && src[i + 2] === '\n') {
      const end = until(`\n${two[1]}@`, i + 3);
      i = literal(i, end + 3, src.slice(i + 3, end), two[1] === "'");
    } else if (src[i] === "'" || src[i] === '"') {
      const quote = src[i];
      let j = i + 1;
      let text = '';
      for (; j < src.length; j++) {
        if (quote === '"' && src[j] === '`') j++;
        else if (src[j] === quote && src[j + 1] === quote) j++;
        else if (src[j] === quote) break;
        text += src[j];
      }
      i = literal(i, j + 1, text, quote === "'");
    } else {
      script.uncommented += src[i];
      script.code += src[i++];
    }
  }
  return script;
}

const scriptsOf = (profile: string): Script[] =>
  fs
    .readdirSync(path.join(examples, profile))
    .filter((f) => f.endsWith('.ps1'))
    .map((f) => read(path.join(examples, profile, f)));

const isSql = (text: string) =>
  /\b(SELECT\b[\s\S]*\bFROM|UPDATE\b[\s\S]*\bSET|INSERT\s+INTO|DELETE\s+FROM)\b/.test(text);
const sqlOf = (scripts: Script[]) => scripts.flatMap((s) => s.strings.filter((t) => isSql(t.text)));

describe.each(PROFILES)('%s PowerShell scripts', (profile) => {
  const scripts = scriptsOf(profile);

  it('send SQL only through parameters: no Invoke-Sqlcmd (its -Variable substitutes text), SQL in verbatim strings with nothing spliced in', () => {
    expect(sqlOf(scripts).length).toBeGreaterThan(0);
    for (const s of scripts) {
      expect([s.file, s.code]).not.toEqual([s.file, expect.stringMatching(/Invoke-Sqlcmd/i)]);
      for (const t of s.strings.filter((x) => isSql(x.text))) {
        // A "..." string would expand $variables into the SQL; '...' cannot.
        expect([s.file, t.text, t.verbatim]).toEqual([s.file, t.text, true]);
        // No sqlcmd-style $(Name) and no text built in: values are @Name parameters.
        expect([s.file, t.text]).not.toEqual([s.file, expect.stringMatching(/\$/)]);
      }
    }
    expect(scripts.map((s) => s.code).join('\n')).toMatch(/Parameters\.AddWithValue\(/);
  });

  it('check certificates: SQL encrypted, TrustServerCertificate and SkipCertificateCheck only behind an opt-in variable the docs (docs/real-environments.md) document', () => {
    const lines = scripts.flatMap((s) =>
      s.uncommented.split('\n').map((line, n) => ({ where: `${s.file}:${n + 1}`, line })),
    );
    expect(lines.map((l) => l.line)).toContain("  $builder['Encrypt'] = $true");
    const relaxing = lines.filter(({ line }) => /TrustServerCertificate|SkipCertificateCheck/i.test(line));
    expect(relaxing.length).toBeGreaterThan(0);
    for (const { where, line } of relaxing) {
      // Never a switch (-SkipCertificateCheck) nor $true: only `Name = $env:OPT_IN -eq '1'`, documented.
      const optIn =
        /^[^-]*\b(?:TrustServerCertificate|SkipCertificateCheck)'?\]? = \$env:([A-Z_]+) -eq '1'/.exec(
          line,
        )?.[1];
      expect([where, line, optIn !== undefined && readme.includes(`\`${optIn}: '1'\``)]).toEqual([
        where,
        line,
        true,
      ]);
    }
  });

  it('use a least-privilege login: least-privilege.sql grants SELECT or UPDATE on exactly the tables the SQL uses, and no admin login', () => {
    const needed = new Set<string>();
    for (const { text } of sqlOf(scripts)) {
      for (const [, table] of text.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/g)) needed.add(`SELECT ${table}`);
      for (const [, table] of text.matchAll(/\bUPDATE\s+(\w+)/g)) needed.add(`UPDATE ${table}`);
    }
    const grants = fs
      .readFileSync(path.join(examples, profile, 'least-privilege.sql'), 'utf8')
      .replace(/--.*$/gm, '');
    const granted = new Set(
      [...grants.matchAll(/^GRANT (SELECT|UPDATE) ON dbo\.(\w+)/gm)].map(
        ([, right, table]) => `${right} ${table}`,
      ),
    );
    expect([...granted].sort()).toEqual([...needed].sort());
    expect(grants).not.toMatch(
      /db_owner|sysadmin|ALTER\s+ROLE|sp_addrolemember|\bCONTROL\b|GRANT\s+ALL|WITH GRANT OPTION/i,
    );
    expect(readme).toContain(`examples/${profile}/least-privilege.sql`);
    const doc = YAML.parse(fs.readFileSync(path.join(examples, profile, 'temporal.yaml'), 'utf8'));
    for (const env of Object.values(doc.environments) as { env?: Record<string, string> }[])
      expect(env.env?.AXDB_USER ?? '(Windows authentication)').not.toMatch(/^(sa|axdbadmin)$/i);
  });

  it("keep the started-with state in the worker account's own folder, created with a private ACL", () => {
    const common = scripts.find((s) => s.file === 'Common.ps1')!;
    expect(common.code).toMatch(/\$StateDir = Join-Path \(\[Environment\]::GetFolderPath\(STRING\)\) STRING/);
    expect(common.strings.map((t) => t.text)).toContain('LocalApplicationData');
    const save = /function Save-StartedWith[\s\S]*?\n\}/.exec(common.code)?.[0] ?? '';
    expect(save).toMatch(/SetAccessRuleProtection\(\$true, \$false\)/);
    expect(save).toMatch(/Set-Acl -Path \$StateDir/);
    for (const s of scripts) {
      // Nowhere that other accounts can write, and no file written but through Save-StartedWith.
      const all = `${s.code}\n${s.strings.map((t) => t.text).join('\n')}`;
      expect([s.file, all]).not.toEqual([
        s.file,
        expect.stringMatching(/ProgramData|\$env:(TEMP|TMP|PUBLIC)|GetTempPath/i),
      ]);
      const writes = s.code.match(/Set-Content|Out-File|Add-Content|New-Item|Export-Clixml/g) ?? [];
      const inSave = s === common ? (save.match(/Set-Content|New-Item/g) ?? []).length : 0;
      expect([s.file, writes.length]).toEqual([s.file, inSave]);
    }
  });
});

describe('d365-ppac PowerShell scripts', () => {
  const scripts = scriptsOf('d365-ppac');
  const code = (file: string) => scripts.find((s) => s.file === file)!.code;
  const doc = YAML.parse(fs.readFileSync(path.join(examples, 'd365-ppac', 'temporal.yaml'), 'utf8'));
  const environment = Object.values(doc.environments)[0] as {
    commands: Record<string, { argv: string[]; timeout?: string }>;
  };

  it('set administration mode without waiting in the cmdlet, then poll it with progress, giving up (75) before the command’s timeout kills them', () => {
    const set = code('Set-AdminMode.ps1');
    expect(set).toMatch(/Set-AdminPowerAppEnvironmentRuntimeState [^\n]*-RuntimeState \$target/);
    expect(set).toMatch(/-WaitUntilFinished \$false/);
    expect(set).toMatch(
      /while \(\(\$state = Get-RuntimeState\) -ne \$target\) \{[\s\S]*Start-Sleep[\s\S]*\}/,
    );
    expect(set).toMatch(/\[Console\]::Error\.WriteLine\(STRING\)\s*\n\s*Start-Sleep/);
    expect(set).toMatch(/exit 75/);
    // It gives up after 25 minutes by default; the command is killed at its timeout, which must be later.
    expect(set).toMatch(/\} else \{ 25 \}/);
    expect(environment.commands.writeFlag.timeout).toBe('30m');
    // Already in the state asked for: nothing requested (the activity may run the script again).
    expect(set).toMatch(/if \(\(Get-RuntimeState\) -eq \$target\) \{ exit 0 \}/);
  });

  it('leave the AOS alone: restart and stop run the no-op script, which says why', () => {
    for (const name of ['restartAos', 'stopAos']) {
      expect(environment.commands[name].argv).toContain('Skip-Aos.ps1');
      expect(environment.commands[name].argv.join(' ')).toMatch(/-Because no-op: Microsoft runs the AOS/);
    }
    expect(code('Skip-Aos.ps1')).not.toMatch(/Import-Module|Set-Admin|Invoke-RestMethod|Stop-|Restart-/);
  });

  it('read the client secret from their environment only, check certificates, and write no file', () => {
    for (const s of scripts) {
      const all = `${s.code}\n${s.strings.map((t) => t.text).join('\n')}`;
      expect([s.file, all]).not.toEqual([s.file, expect.stringMatching(/SkipCertificateCheck|-Insecure/i)]);
      expect([s.file, s.code]).not.toEqual([
        s.file,
        expect.stringMatching(/Set-Content|Out-File|Add-Content|New-Item|Export-Clixml/),
      ]);
      const secretReads = s.uncommented.match(/\$env:PPAC_CLIENT_SECRET/g) ?? [];
      const secretMentions = s.uncommented.match(/PPAC_CLIENT_SECRET/g) ?? [];
      expect([s.file, secretReads.length]).toEqual([s.file, secretMentions.length]);
    }
    expect(doc.environments['contoso-unified'].env.PPAC_CLIENT_SECRET).toBe('${env:PPAC_CLIENT_SECRET}');
  });
});
