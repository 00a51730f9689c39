# Turns the ```csharp blocks of the Markdown files given into a compilable C# file on stdout: each block's
# `using` lines are hoisted, the rest becomes the body of its own async method, so blocks stay independent.
# -v kind=web keeps the blocks that look like an ASP.NET Core app (WebApplication, app.Map…, Results.…);
# -v kind=console keeps the others, which must compile in a plain console app. Without kind, every block.
# A block that declares a type (a custom layer, say) keeps it: from the first line that starts a declaration to the end
# of the block, its lines go to the file's top level, as they would in a top-level program.
# -v lang=cs reads the blocks fenced ```cs instead (the migration guide's Polly halves, compiled with Polly apart).
BEGIN { if (lang == "") lang = "csharp" }
$0 ~ ("^```" lang "[[:space:]]*$") { inblock = 1; intypes = 0; cur = ""; curusings = ""; curtypes = ""; cursrc = FILENAME ":" FNR; next }
/^```/ && inblock {
  inblock = 0
  web = (cur ~ /WebApplication|app\.Map|Results\./)
  if (kind == "" || (kind == "web" && web) || (kind == "console" && !web)) {
    n++; body[n] = cur; src[n] = cursrc; types[n] = curtypes
    split(curusings, lines, "\n")
    for (i in lines) if (lines[i] != "") usings[lines[i]] = 1
  }
  next
}
inblock && /^((public|internal|file|sealed|static|abstract|partial|readonly) )*(class|record|struct|interface|enum) / { intypes = 1 }
inblock && intypes { curtypes = curtypes $0 "\n"; next }
inblock {
  if ($0 ~ /^using [A-Za-z0-9_.= ]+;[[:space:]]*$/) { curusings = curusings $0 "\n" } else { cur = cur $0 "\n" }
}
END {
  for (u in usings) print u
  print "#pragma warning disable CS0219, CS0168, CS8321, CS1998, CS4014, CA1849, CA2007, CA2000"
  print "internal static class ReadmeSnippets"
  print "{"
  for (i = 1; i <= n; i++) {
    print "    // " src[i]
    # `args`, as a top-level program has it (WebApplication.CreateBuilder(args)).
    print "    internal static async System.Threading.Tasks.Task Snippet" i "(string[] args)"
    print "    {"
    printf "%s", body[i]
    print "        await System.Threading.Tasks.Task.CompletedTask;"
    print "    }"
  }
  print "}"
  for (i = 1; i <= n; i++) if (types[i] != "") { print "// " src[i]; printf "%s", types[i] }
}
