// codistill's Java compile server: java -cp DIR CodistillJavacServer
//
// Reads one request per line on stdin: space-separated "NAME:BASE64" source files, and answers
// one JSON line on stdout: {"ok": bool, "diagnostics": "...", "classes": {"A.class": BASE64}}.
// It compiles with the JDK's own javac (javax.tools), options as the sandbox's javac command,
// but stays warm between requests: no JVM start, javac's code already compiled by the JIT,
// the platform's class files already indexed. Sources and classes never touch the disk.

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

public final class CodistillJavacServer {
    static final List<String> OPTIONS = List.of("-proc:none", "-nowarn", "-encoding", "UTF-8",
            "-Xlint:none", "-g:source,lines");

    static final class Source extends SimpleJavaFileObject {
        final String text;

        Source(String name, String text) {
            super(URI.create("string:///" + name), Kind.SOURCE);
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }

    static final class Output extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Output(String className) {
            super(URI.create("bytes:///" + className.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            return bytes;
        }
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StandardJavaFileManager standard = javac.getStandardFileManager(null, Locale.ROOT,
                StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        out.print("{\"ready\": true}\n");
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String answer;
            try {
                answer = compile(javac, standard, line);
            } catch (Throwable error) {
                answer = "{\"ok\": false, \"crashed\": true, \"diagnostics\": "
                        + quote("compile server error: " + error) + ", \"classes\": {}}";
            }
            out.print(answer + "\n");
            out.flush();
        }
    }

    static String compile(JavaCompiler javac, StandardJavaFileManager standard, String line) {
        List<JavaFileObject> sources = new ArrayList<>();
        Base64.Decoder decoder = Base64.getDecoder();
        for (String field : line.trim().split(" ")) {
            if (field.isEmpty()) continue;
            int colon = field.indexOf(':');
            String name = new String(decoder.decode(field.substring(0, colon)),
                    StandardCharsets.UTF_8);
            String text = new String(decoder.decode(field.substring(colon + 1)),
                    StandardCharsets.UTF_8);
            sources.add(new Source(name, text));
        }
        Map<String, Output> classes = new TreeMap<>();
        ForwardingJavaFileManager<StandardJavaFileManager> memory =
                new ForwardingJavaFileManager<>(standard) {
                    @Override
                    public JavaFileObject getJavaFileForOutput(Location location, String className,
                            JavaFileObject.Kind kind, FileObject sibling) {
                        Output output = new Output(className);
                        classes.put(className.replace('.', '/') + ".class", output);
                        return output;
                    }
                };
        DiagnosticCollector<JavaFileObject> collected = new DiagnosticCollector<>();
        boolean ok = javac.getTask(null, memory, collected, OPTIONS, null, sources).call();
        StringBuilder text = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : collected.getDiagnostics()) {
            String file = d.getSource() == null ? "javac"
                    : d.getSource().toUri().getPath().replaceFirst("^/", "");
            String kind = d.getKind() == Diagnostic.Kind.ERROR ? "error" : "warning";
            text.append(file).append(':').append(d.getLineNumber()).append(": ").append(kind)
                    .append(": ").append(d.getMessage(Locale.ROOT)).append('\n');
        }
        StringBuilder json = new StringBuilder("{\"ok\": ").append(ok)
                .append(", \"diagnostics\": ").append(quote(text.toString()))
                .append(", \"classes\": {");
        Base64.Encoder encoder = Base64.getEncoder();
        boolean first = true;
        for (Map.Entry<String, Output> entry : classes.entrySet()) {
            if (!first) json.append(", ");
            first = false;
            json.append(quote(entry.getKey())).append(": ")
                    .append(quote(encoder.encodeToString(entry.getValue().bytes.toByteArray())));
        }
        return json.append("}}").toString();
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
}
