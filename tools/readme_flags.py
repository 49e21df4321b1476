#!/usr/bin/env python3
"""Refreshes README's flag tables ("Every flag of keycred COMMAND" blocks) from the binary's --help.

Run from the project root after changing a command's flags: cargo build && python3 tools/readme_flags.py
(KEYCRED=path picks another binary). tests/cli/readme.rs fails while a table lacks a flag or lists one that is gone.
"""
import os, re, subprocess, sys
K=os.environ.get('KEYCRED', 'target/debug/keycred')
def table(cmd):
    out=subprocess.run([K]+cmd+['--help'],capture_output=True,text=True).stdout
    opts=out.split("Options:\n",1)[1]
    # also positional Arguments
    args_sec=out.split("Arguments:\n",1)[1].split("Options:\n")[0] if "Arguments:\n" in out else ""
    rows=[]
    def parse(sec):
        entries=[]
        cur=None
        for line in sec.split("\n"):
            inline=None
            mm=re.match(r"^(  (?:-\w, )?--[\w-]+(?: <[^>]+>)?(?:\.\.\.)?|      --[\w-]+(?: <[^>]+>)?(?:\.\.\.)?|  (?:<[^>]+>|\[[^\]]+\])(?:\.\.\.)?)  +(\S.*)$",line)
            if mm:
                line=mm.group(1); inline=mm.group(2)
            m=re.match(r"^  (?:(-\w), )?(--[\w-]+)(?: <([^>]+)>)?(?:\.\.\.)?\s*$",line) or re.match(r"^      (--[\w-]+)(?: <([^>]+)>)?(?:\.\.\.)?\s*$",line)
            m2=re.match(r"^  (<[^>]+>(?:\.\.\.)?|\[[^\]]+\](?:\.\.\.)?)\s*$",line)
            if m:
                g=m.groups()
                if len(g)==3:
                    short,long,val=g
                else:
                    short=None;long,val=g
                cur={'flag':long,'short':short,'val':val,'desc':[],'default':None,'values':[]}
                entries.append(cur)
            elif m2:
                cur={'flag':m2.group(1),'short':None,'val':None,'desc':[],'default':None,'values':[]}
                entries.append(cur)
            if inline is not None and cur is not None and (m or m2):
                rest=inline
                dm=re.search(r"\[default: ([^\]]+)\]",rest)
                if dm: cur['default']=dm.group(1); rest=rest[:dm.start()].strip()
                pm=re.search(r"\[possible values: ([^\]]+)\]",rest)
                if pm: cur['values']=[v.strip() for v in pm.group(1).split(",")]; rest=rest[:pm.start()].strip()
                cur['desc'].append(rest)
                continue
            if m or m2:
                continue
            elif cur is not None:
                t=line.strip()
                if t.startswith("Possible values"):
                    cur['in_values']=True
                    continue
                if cur.get('in_values') and t and not t.startswith("- ") and not t.startswith("[default:"):
                    continue
                if t.startswith("[default:"):
                    cur['default']=t[len("[default: "):-1]
                elif t.startswith("- "):
                    cur['values'].append(t[2:].split(":")[0])
                elif t and not t.startswith("Possible values") and not t.startswith("[aliases"):
                    cur['desc'].append(t)
        return entries
    ents=parse(args_sec)+parse(opts)
    lines=["| flag | meaning | default |","| --- | --- | --- |"]
    for e in ents:
        if e['flag'] in ('--help','--version'): continue
        name="`"+e['flag']+(" "+e['val'] if e['val'] else "")+"`"
        if e['short']: name+=", `"+e['short']+"`"
        d=" ".join(e['desc'])
        if e['values']: d+=" ("+", ".join("`"+v+"`" for v in e['values'])+")"
        d=d.replace("|","\\|")
        dflt="`"+e['default']+"`" if e['default'] else ""
        name=name.replace("|","\\|")
        lines.append(f"| {name} | {d} | {dflt} |")
    return "\n".join(lines)


def block(cmd):
    return (
        f"<details><summary>Every flag of <code>keycred {' '.join(cmd)}</code></summary>\n\n"
        + table(cmd)
        + "\n\n</details>"
    )


def main():
    readme = open("README.md").read()
    commands = re.findall(r"<details><summary>Every flag of <code>keycred ([^<]+)</code></summary>", readme)
    for command in commands:
        start = readme.index(f"<details><summary>Every flag of <code>keycred {command}</code></summary>")
        end = readme.index("</details>", start) + len("</details>")
        readme = readme[:start] + block(command.split()) + readme[end:]
    open("README.md", "w").write(readme)
    print(f"refreshed {len(commands)} flag tables")


if __name__ == "__main__":
    main()
