package dev.agentturbo.security.boundary;

import jakarta.annotation.security.DeclareRoles;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import java.io.IOException;

/**
 * The console's sign-in and sign-out ({@link CallerAuthentication} checks the credentials of
 * {@code POST /console/login}), and its start page for a signed-in user.
 */
@WebServlet(urlPatterns = {"/console", "/console/", CallerAuthentication.LOGIN, "/console/logout"})
@DeclareRoles({"viewer", "submitter", "operator"})
public class ConsolePages extends HttpServlet {

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        String path = request.getServletPath();
        if (path.equals("/console/logout")) {
            request.logout();
            HttpSession session = request.getSession(false);
            if (session != null) {
                session.invalidate();
            }
            response.sendRedirect(request.getContextPath() + CallerAuthentication.LOGIN_PAGE + "?signed-out");
        } else if (path.equals(CallerAuthentication.LOGIN) && request.getUserPrincipal() != null) {
            // signed in by the authentication mechanism: a new session id, so that one fixed before cannot ride on it
            request.changeSessionId();
            response.sendRedirect(request.getContextPath() + "/console/");
        } else {
            response.sendRedirect(request.getContextPath() + CallerAuthentication.LOGIN_PAGE);
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!request.getServletPath().startsWith("/console") || request.getServletPath().equals(CallerAuthentication.LOGIN)
                || request.getServletPath().equals("/console/logout") || request.getUserPrincipal() == null) {
            response.sendRedirect(request.getContextPath() + CallerAuthentication.LOGIN_PAGE);
            return;
        }
        String role = request.isUserInRole("operator") ? "operator" : request.isUserInRole("submitter") ? "submitter"
                : "viewer";
        response.setContentType("text/html;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.getWriter().write("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Agent Turbo</title>
                <link rel="stylesheet" href="public/console.css"></head>
                <body><main class="card">
                <h1>Agent Turbo</h1>
                <p id="caller">Signed in as <b>%s</b> (%s).</p>
                <p>The API answers this session at <a href="../api/tasks">/api/tasks</a>, <a href="../api/workers">/api/workers</a>
                and <a href="../api/stats">/api/stats</a>.</p>
                <form method="post" action="logout"><button type="submit" id="sign-out">Sign out</button></form>
                </main></body></html>
                """.formatted(escape(request.getUserPrincipal().getName()), role));
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
