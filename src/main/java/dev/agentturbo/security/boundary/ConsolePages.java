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
 * {@code POST /console/login}), and its start page for a signed-in user: the dashboard.
 */
@WebServlet(urlPatterns = {"/console", "/console/", CallerAuthentication.LOGIN, "/console/logout"})
@DeclareRoles({"viewer", "submitter", "operator"})
public class ConsolePages extends HttpServlet {

    static final String DASHBOARD = "/console/dashboard.xhtml";

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        String path = request.getServletPath();
        if (!SameOrigin.holds(request)) {
            response.sendError(HttpServletResponse.SC_FORBIDDEN, "a form of another site cannot post to the console");
            return;
        }
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
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        if (!request.getServletPath().startsWith("/console") || request.getServletPath().equals(CallerAuthentication.LOGIN)
                || request.getServletPath().equals("/console/logout") || request.getUserPrincipal() == null) {
            response.sendRedirect(request.getContextPath() + CallerAuthentication.LOGIN_PAGE);
            return;
        }
        // the start page is the dashboard (Jakarta Faces)
        request.getRequestDispatcher(DASHBOARD).forward(request, response);
    }
}
